"""The 7-day notice rule of planned outages (004 第十条(二)10), pure."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from brightline.dispatch.domain.planned import PlannedOutageError, register

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SH)
SEVEN_DAYS = timedelta(days=7)


def outage(announced_at, starts_at=datetime(2026, 12, 8, 8, 0, tzinfo=SH), **kw):
    return register(
        id="po-1",
        area_codes=["A1", "A1", "A2"],
        starts_at=starts_at,
        ends_at=kw.pop("ends_at", starts_at + timedelta(hours=8)),
        announced_at=announced_at,
        reason="10kV线路检修",
        notice=SEVEN_DAYS,
        now=NOW,
        important_customer_ids=["C-HOSPITAL"],
        **kw,
    )


def test_announced_seven_days_ahead_keeps_the_rule():
    # starts Tue 12-08 08:00; announced Tue 12-01 08:00 = exactly 7 days: in time
    o = outage(datetime(2026, 12, 1, 8, 0, tzinfo=SH))
    assert not o.notice.late and o.area_codes == ("A1", "A2")
    assert o.announcement_due_at == datetime(2026, 12, 1, 8, 0, tzinfo=SH)


def test_announced_one_minute_late_is_a_breach_naming_the_important_customers():
    o = outage(datetime(2026, 12, 1, 8, 1, tzinfo=SH))
    assert o.notice.late and o.important_customer_ids == ("C-HOSPITAL",)
    assert o.notice.given == SEVEN_DAYS - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("announced_at", {"announced_at": NOW + timedelta(hours=1)}),
        (
            "announced_at",
            {"announced_at": NOW - timedelta(hours=1), "starts_at": NOW - timedelta(hours=2)},
        ),
        # A month and a minute: planned work, not a season without power.
        ("ends_at", {"announced_at": NOW, "ends_at": datetime(2027, 1, 7, 8, 1, tzinfo=SH)}),
    ],
)
def test_a_wrong_registration_names_the_field(field, kwargs):
    with pytest.raises(PlannedOutageError) as info:
        outage(**kwargs)
    assert info.value.field == field
