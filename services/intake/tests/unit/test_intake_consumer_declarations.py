"""Which events intake's consumer takes a transaction for: of the deadlines the SLA monitor
opens (every ticket type's, every callback's), only a repair's arrival clock; of the reopen
requests, only intake's own tickets'. The others are skipped before a transaction (no inbox
row, no audit row, no commit)."""

from datetime import UTC, datetime, timedelta

from brightline.contracts import new_event
from brightline.contracts.events.callback import ReopenRequestedV1
from brightline.contracts.events.sla import DeadlineOpenedV1
from brightline.intake import consumers
from brightline.intake.domain import commands
from brightline.messaging.consumer import wants

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def opened(limit_key: str, subject_type: str, ticket_id: str | None = "t-1"):
    return new_event(
        DeadlineOpenedV1(
            deadline_id="d-1",
            limit_key=limit_key,
            policy_pack="sgcc-2011",
            subject_type=subject_type,
            subject_id="wo-1" if subject_type == "work_order" else "t-1",
            ticket_id=ticket_id,
            opened_at=AT,
            warn_at=AT + timedelta(minutes=30),
            due_at=AT + timedelta(minutes=45),
        ),
        source="/brightline/sla_monitor",
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


def test_only_a_repairs_arrival_clock_is_taken_of_the_deadlines_opened():
    arrival = opened("repair.arrival.urban", "work_order")
    assert wants(route(arrival), arrival)
    assert route(arrival)(arrival) == commands.KeepArrivalDeadline(
        "wo-1", "t-1", AT + timedelta(minutes=45), AT
    )
    for other in (
        opened("complaint.handling", "ticket"),
        opened("callback.first_attempt", "callback_task"),
        opened("repair.arrival.urban", "work_order", ticket_id=None),
    ):
        assert not wants(route(other), other), other.data["limit_key"]


def test_only_intakes_own_tickets_are_reopened_here():
    assert wants(route(reopen("intake")), reopen("intake"))
    assert route(reopen("intake"))(reopen("intake")) == commands.ReopenTicket("t-1", "不满意")
    for origin in ("dispatch", "casework"):
        assert not wants(route(reopen(origin)), reopen(origin))
