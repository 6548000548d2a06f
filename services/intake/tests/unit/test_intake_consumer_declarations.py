"""Which events intake's consumer takes a transaction for: of dispatch's promotions, those
naming an arrival deadline; of the reopen requests, only intake's own tickets'. The others are
skipped before a transaction (no inbox row, no audit row, no commit)."""

from datetime import UTC, datetime, timedelta

from brightline.contracts import new_event
from brightline.contracts.events.callback import ReopenRequestedV1
from brightline.contracts.events.dispatch import WorkOrderPromotedV2
from brightline.contracts.topics import SLA_DEADLINES, consumed_by
from brightline.intake import consumers
from brightline.intake.domain import commands
from brightline.messaging.consumer import wants

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def promoted(arrive_by: datetime | None):
    return new_event(
        WorkOrderPromotedV2(
            work_order_id="wo-1",
            ticket_id="t-1",
            unit_id="u-1",
            area_class="urban",
            reported_at=AT,
            promoted_at=AT + timedelta(minutes=5),
            reason="incident_cancelled",
            arrive_by=arrive_by,
        ),
        source="/brightline/dispatch",
    )


def reopen(origin: str):
    return new_event(
        ReopenRequestedV1(
            ticket_id="t-1", task_id="cb-1", origin=origin, reason="不满意", requested_at=AT
        ),
        source="/brightline/callback",
    )


def route(event):
    return consumers.TRANSLATORS[event.type]


def test_a_promoted_orders_arrival_deadline_is_taken_and_the_monitors_deadlines_are_not():
    """The arrival deadline comes from dispatch (with a leading order's created event, or its
    promotion): intake does not subscribe to the SLA monitor's deadlines at all."""
    with_deadline = promoted(AT + timedelta(minutes=45))
    assert wants(route(with_deadline), with_deadline)
    assert route(with_deadline)(with_deadline) == commands.KeepArrivalDeadline(
        "wo-1", "t-1", AT + timedelta(minutes=45), AT + timedelta(minutes=5)
    )
    assert not wants(route(promoted(None)), promoted(None))
    assert SLA_DEADLINES not in consumed_by("intake")
    assert not any(t.startswith("brightline.sla.") for t in consumers.TRANSLATORS)


def test_only_intakes_own_tickets_are_reopened_here():
    assert wants(route(reopen("intake")), reopen("intake"))
    assert route(reopen("intake"))(reopen("intake")) == commands.ReopenTicket("t-1", "不满意")
    for origin in ("dispatch", "casework"):
        assert not wants(route(reopen(origin)), reopen(origin))
