"""What a repeat caller is told (issue 14, point 8): the order's real state, the crew's arrival
deadline or the incident's restoration time when there is one, the area by its name, and
"因故障" when the cause is not known. Pure."""

from datetime import UTC, datetime

import pytest

from brightline.intake.adapters.rule_files import greeting_rules
from brightline.intake.api.routes_util import link_message
from brightline.intake.domain.greetings import GreetingContext, OutageNotice
from brightline.intake.domain.linking import (
    ActiveOutage,
    OpenRepair,
    address_key,
    find_link,
)

T = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ETA = datetime(2026, 7, 1, 2, 45, tzinfo=UTC)  # 10:45


def repair(progress: str, **over) -> OpenRepair:
    return OpenRepair("t-1", "N1", address_key("和平路8号"), "M-1", "A-1", progress, **over)


def line(progress: str, **over) -> str:
    link = find_link(
        address="和平路8号",
        meter_no=None,
        area_code=None,
        open_repairs=[repair(progress, **over)],
        active_outages=[],
    )
    return link_message(link, T)


@pytest.mark.parametrize(
    ("progress", "said", "never"),
    [
        ("created", "正在为您安排抢修人员", "已经出发"),
        ("assigned", "等待抢修人员接单", "赶往现场"),
        ("en_route", "抢修人员正在赶往现场", "已到达"),
        ("on_site", "抢修人员已到达现场抢修", "赶往现场"),
    ],
)
def test_the_line_says_the_orders_real_state(progress, said, never):
    text = line(progress)
    assert said in text and never not in text


def test_the_crews_arrival_deadline_is_given_until_it_is_there():
    assert "抢修人员预计10:45前到达现场" in line("en_route", arrive_by=ETA)
    assert "预计10:45前到达" not in line("on_site", arrive_by=ETA)


def test_a_time_already_past_is_not_read_out_as_a_promise():
    """A crew late for its arrival limit, an outage running over its restoration time: the
    caller is not told a time that has passed."""
    late = datetime(2026, 7, 1, 1, 45, tzinfo=UTC)  # 09:45, a quarter of an hour before the call
    text = line("en_route", arrive_by=late, expected_restore_at=late, area_name="幸福里")
    assert "抢修人员正在赶往现场" in text and "09:45" not in text and "前到达" not in text
    assert "恢复时间确定后我们会尽快告知" in text and "恢复供电" not in text


def test_an_outage_past_its_restoration_time_is_announced_without_one():
    rules = greeting_rules()

    def said(restore_at: datetime) -> str:
        ctx = GreetingContext(
            call_time=T,
            staff_no="1001",
            unit_name="国网某供电公司",
            outage=OutageNotice(area="幸福里", expected_restore_at=restore_at),
        )
        [line] = rules.greet(ctx).announcements
        return line

    assert "10:45恢复供电" in said(ETA)
    overran = said(datetime(2026, 7, 1, 1, 30, tzinfo=UTC))
    assert "恢复时间确定后我们会尽快告知" in overran and "09:30" not in overran


def test_a_repair_inside_an_outage_tells_the_incidents_state_and_restoration_time():
    text = line(
        "created",
        outage_status="crew_on_site",
        expected_restore_at=datetime(2026, 7, 1, 6, 0, tzinfo=UTC),
        area_name="幸福里",
    )
    assert "幸福里" in text and "抢修人员已到达现场抢修" in text and "14:00恢复供电" in text
    assert "正在为您安排" not in text


def test_an_outage_link_names_the_area_by_its_name():
    outage = ActiveOutage(
        "inc-1",
        ("EAST-01",),
        None,
        None,
        covers_meter=True,
        area_names=("幸福里",),
        status="suspected",
    )
    link = find_link(
        address="别处",
        meter_no="M-9",
        area_code="EAST-01",
        open_repairs=[],
        active_outages=[outage],
    )
    text = link_message(link, T)
    assert "幸福里" in text and "EAST-01" not in text and "正在核实停电范围" in text
    assert "恢复时间确定后我们会尽快告知" in text


def test_an_announcement_without_a_known_cause_says_because_of_a_fault():
    rules = greeting_rules()
    ctx = GreetingContext(
        call_time=T,
        staff_no="1001",
        unit_name="国网某供电公司",
        outage=OutageNotice(area="幸福里"),
    )
    [said] = rules.greet(ctx).announcements
    assert said.startswith("您所在的幸福里因故障停电") and "抢修人员正在全力抢修" not in said
