"""The repair arrival clock (issue 14, points 3 and 4): one clock per outage incident (the lead
order's), started at the ticket's 受理 rather than when dispatch processed it."""

from datetime import UTC, datetime, timedelta

from brightline.contracts import new_event
from brightline.contracts.events.dispatch import (
    WorkOrderCreatedV1,
    WorkOrderCreatedV2,
    WorkOrderPromotedV1,
    WorkOrderPromotedV2,
)
from brightline.sla_monitor.domain.monitor import Open
from brightline.sla_monitor.domain.policy import PolicyBook, load_pack
from brightline.sla_monitor.translate import inputs_for

BOOK = PolicyBook([load_pack("seed")])
CREATED = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)


def created(**over) -> list:
    payload = WorkOrderCreatedV1(
        work_order_id="wo-1",
        ticket_id="t-1",
        unit_id="u-1",
        area_class="urban",
        created_at=CREATED,
        **over,
    )
    return inputs_for(new_event(payload, source="/brightline/dispatch"), BOOK)


def test_the_clock_starts_at_the_tickets_recorded_time_not_at_dispatch():
    recorded = CREATED - timedelta(minutes=25)  # queue lag in a storm
    [opened] = created(reported_at=recorded)
    assert isinstance(opened, Open) and opened.at == recorded
    assert opened.limit_key == "repair.arrival.urban"


def test_an_order_folded_into_an_incident_has_no_clock_of_its_own():
    assert created(is_lead=False, incident_id="inc-1") == []
    assert len(created(is_lead=True, incident_id="inc-1")) == 1


def test_events_from_before_the_change_still_open_a_clock_at_creation():
    [opened] = created()
    assert opened.at == CREATED


def test_a_follower_that_comes_to_stand_for_itself_gets_its_clock_from_its_recorded_time():
    recorded = CREATED - timedelta(minutes=5)
    payload = WorkOrderPromotedV1(
        work_order_id="wo-2",
        ticket_id="t-2",
        unit_id="u-1",
        area_class="rural",
        reported_at=recorded,
        promoted_at=CREATED + timedelta(hours=1),
        reason="incident_cancelled",
        incident_id="inc-1",
    )
    [opened] = inputs_for(new_event(payload, source="/brightline/dispatch"), BOOK)
    assert opened.at == recorded and opened.limit_key == "repair.arrival.rural"
    assert opened.subject_id == "wo-2"
    # v2 says the deadline dispatch counted for the crew; the clock opens as v1's did.
    later = WorkOrderPromotedV2(**payload.model_dump(), arrive_by=recorded + timedelta(minutes=90))
    assert inputs_for(new_event(later, source="/brightline/dispatch"), BOOK) == [opened]


def test_an_order_created_already_offered_to_a_crew_opens_the_same_clock():
    """created.v2 (the creation and the offer to a crew in one event) opens what v1 opened;
    the offer itself moves no clock, as v1's status-changed `assigned` did not."""
    recorded = CREATED - timedelta(minutes=3)
    payload = WorkOrderCreatedV2(
        work_order_id="wo-1",
        ticket_id="t-1",
        unit_id="u-1",
        area_class="urban",
        created_at=CREATED,
        reported_at=recorded,
        status="assigned",
        crew_id="crew-1",
        status_changed_at=CREATED,
    )
    assert inputs_for(new_event(payload, source="/brightline/dispatch"), BOOK) == created(
        reported_at=recorded
    )
