"""Events intake reacts to: dispatch's outages and work orders (repeat-call linking, the caller
card), callback's reopen requests for intake-owned tickets, and casework's case life (intake's
copy of a complaint, report, opinion, suggestion or praise follows its case)."""

from brightline.contracts import Event
from brightline.contracts.topics import (
    CALLBACK_TASKS,
    CASEWORK_CASES,
    DISPATCH_OUTAGES,
    DISPATCH_PLANNED_OUTAGES,
    DISPATCH_WORK_ORDERS,
    SLA_DEADLINES,
)
from brightline.intake.domain import commands
from brightline.messaging import payload


def on_reopen_requested(event: Event) -> commands.ReopenTicket | None:
    p = event.payload()
    if p.origin != "intake":  # dispatch and casework reopen their own
        return None
    return commands.ReopenTicket(p.ticket_id, p.reason)


def on_case_status_changed(event: Event) -> commands.FollowCase:
    p = event.payload()
    return commands.FollowCase(p.ticket_id, p.status, p.changed_at)


# Reply clocks intake tells the caller about in the closing (from the pack in force).
REPLY_LIMITS = ("complaint.reply", "report.reply")


def on_deadline_opened(
    event: Event,
) -> commands.KeepArrivalDeadline | commands.NoteReplyPromise | None:
    """A repair's arrival clock (told to repeat callers) or a case's reply clock (promised in
    the closing)."""
    p = event.payload()
    if p.subject_type == "work_order" and p.limit_key.startswith("repair.arrival.") and p.ticket_id:
        return commands.KeepArrivalDeadline(p.subject_id, p.ticket_id, p.due_at, p.opened_at)
    if p.limit_key in REPLY_LIMITS and p.ticket_id:
        return commands.NoteReplyPromise(
            ticket_id=p.ticket_id,
            limit_key=p.limit_key,
            amount=p.amount,
            unit=p.unit,
            due_at=p.due_at,
            opened_at=p.opened_at,
            policy_pack=p.policy_pack,
        )
    return None


TOPICS = [
    DISPATCH_OUTAGES,
    DISPATCH_WORK_ORDERS,
    CALLBACK_TASKS,
    CASEWORK_CASES,
    SLA_DEADLINES,
    DISPATCH_PLANNED_OUTAGES,
]
# Dispatch's outages, work orders and planned outages are kept as they came (intake's read
# model of them): the event's payload is the message, with a handler of its own.
TRANSLATORS = {
    "brightline.dispatch.outage.declared.v1": payload,
    "brightline.dispatch.outage.updated.v1": payload,
    "brightline.dispatch.outage.restored.v1": payload,
    "brightline.dispatch.outage.cancelled.v1": payload,
    "brightline.dispatch.linked-ticket.released.v1": payload,
    "brightline.dispatch.work-order.created.v1": payload,
    "brightline.dispatch.work-order.status-changed.v1": payload,
    "brightline.dispatch.work-order.returned.v1": payload,
    "brightline.dispatch.planned-outage.registered.v1": payload,
    "brightline.dispatch.planned-outage.cancelled.v1": payload,
    "brightline.callback.reopen.requested.v1": on_reopen_requested,
    "brightline.casework.case.status-changed.v1": on_case_status_changed,
    "brightline.sla.deadline.opened.v1": on_deadline_opened,
}
