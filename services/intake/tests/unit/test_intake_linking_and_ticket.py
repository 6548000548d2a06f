"""Repeat-call linking decisions and the ticket's life at intake (pure)."""

from datetime import UTC, datetime

import pytest

from brightline.intake.adapters.rule_files import scripts
from brightline.intake.domain.linking import ActiveOutage, OpenRepair, address_key, find_link
from brightline.intake.domain.model import IllegalTransition, MissingFields, Ticket

T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REPAIR = OpenRepair("t-1", "N1", address_key("和平路 8 号"), "M-1", "TA-1", "en_route")
OUTAGE = ActiveOutage("inc-1", ("TA-2", "TA-3"), T, "线路故障")


def test_address_key_ignores_spaces_width_and_punctuation():
    assert address_key("和平路 8 号") == address_key("和平路８号") == address_key("和平路8号。")
    assert address_key("") is None and address_key(None) is None


def test_same_address_or_meter_links_to_the_open_repair():
    by_address = find_link(
        address="和平路８号",
        meter_no=None,
        area_code=None,
        open_repairs=[REPAIR],
        active_outages=[],
    )
    assert (
        by_address.kind == "repair"
        and by_address.ticket_id == "t-1"
        and by_address.progress == "en_route"
    )
    by_meter = find_link(
        address="别处", meter_no="M-1", area_code=None, open_repairs=[REPAIR], active_outages=[]
    )
    assert by_meter.ticket_id == "t-1"


def test_a_meter_under_the_outages_equipment_links_to_the_incident():
    covering = ActiveOutage(
        "inc-1", ("TA-2", "TA-3"), T, "线路故障", covers_meter=True, area_names=("幸福里",)
    )
    link = find_link(
        address="建设路1号",
        meter_no="M-7",
        area_code="TA-3",
        open_repairs=[REPAIR],
        active_outages=[covering],
    )
    assert (link.kind, link.incident_id, link.expected_restore_at) == ("outage", "inc-1", T)
    assert link.area_name == "幸福里"


def test_an_outage_never_swallows_a_whole_area():
    """Same area code, but no meter known to be under the faulty equipment: a repair of its own."""
    for meter in (None, "M-8"):
        assert (
            find_link(
                address="建设路1号",
                meter_no=meter,
                area_code="TA-3",
                open_repairs=[REPAIR],
                active_outages=[OUTAGE],
            )
            is None
        )


def test_a_new_fault_is_not_linked():
    assert (
        find_link(
            address="建设路1号",
            meter_no="M-9",
            area_code="TA-9",
            open_repairs=[REPAIR],
            active_outages=[OUTAGE],
        )
        is None
    )


def ticket(type_="consultation", **details):
    book = scripts()
    return Ticket.record(
        id="t",
        no="1",
        type=type_,
        recorded_at=T,
        first_ask_owner="a-1",
        description="d",
        details={"caller_name": "x", "phone": "1", **details},
        required_fields=book.required_fields()[type_],
    )


def test_required_fields_come_from_the_script():
    with pytest.raises(MissingFields) as error:
        ticket("repair")
    assert set(error.value.fields) == {"address", "fault_scope", "fault_started_at"}


def test_consultation_completes_and_reopens_and_repair_does_not_complete_here():
    t = ticket()
    t.complete("a-1", T)
    assert t.status == "completed" and not t.open
    with pytest.raises(IllegalTransition):
        t.complete("a-1", T)
    assert t.reopen() and t.status == "reopened" and t.open
    assert not t.reopen()
    with pytest.raises(IllegalTransition):
        ticket(
            "repair", address="a", fault_scope="area", fault_started_at="2026-03-02T08:00+08:00"
        ).complete("a-1", T)


def test_owner_changes_but_never_to_nobody():
    t = ticket()
    assert t.hand_to("a-2") == "a-1" and t.owner == "a-2" and t.first_ask_owner == "a-1"
    with pytest.raises(ValueError):
        t.hand_to(" ")
