"""Events intake reacts to: dispatch's outages and work orders (repeat-call linking, the caller
card), callback's reopen requests for intake-owned tickets, and casework's case life (intake's
copy of a complaint, report, opinion, suggestion or praise follows its case)."""

from brightline.contracts import Event
from brightline.contracts.topics import consumed_by
from brightline.intake.domain import commands
from brightline.messaging import only_if, payload


def on_reopen_requested(event: Event) -> commands.ReopenTicket:
    p = event.payload()
    return commands.ReopenTicket(p.ticket_id, p.reason)


def on_case_status_changed(event: Event) -> commands.FollowCase:
    p = event.payload()
    return commands.FollowCase(p.ticket_id, p.status, p.changed_at)


def on_deadline_opened(event: Event) -> commands.KeepArrivalDeadline:
    """A repair's arrival clock, told to repeat callers. (The closing's reply promise is
    computed by intake itself when the ticket is recorded: see reply_promise.)"""
    p = event.payload()
    return commands.KeepArrivalDeadline(p.subject_id, p.ticket_id, p.due_at, p.opened_at)


# Declared (only_if): the other deadlines (every ticket type's, every callback's) and the
# reopens of dispatch's and casework's tickets open no transaction here, no inbox or audit row.
def arrival_clock(e: Event) -> bool:
    return (
        e.data.get("subject_type") == "work_order"
        and str(e.data.get("limit_key", "")).startswith("repair.arrival.")
        and bool(e.data.get("ticket_id"))
    )


def ours(e: Event) -> bool:
    return e.data.get("origin") == "intake"  # dispatch and casework reopen their own


# What this service subscribes to is declared once, in the topic registry (its ACLs too).
TOPICS = consumed_by("intake")
# Dispatch's outages, work orders and planned outages are kept as they came (intake's read
# model of them): the event's payload is the message, with a handler of its own.
TRANSLATORS = {
    "brightline.dispatch.outage.declared.v1": payload,
    "brightline.dispatch.outage.updated.v1": payload,
    "brightline.dispatch.outage.updated.v2": payload,
    "brightline.dispatch.outage.restored.v1": payload,
    "brightline.dispatch.outage.cancelled.v1": payload,
    "brightline.dispatch.linked-ticket.released.v1": payload,
    "brightline.dispatch.work-order.created.v1": payload,
    "brightline.dispatch.work-order.created.v2": payload,
    "brightline.dispatch.work-order.status-changed.v1": payload,
    "brightline.dispatch.work-order.returned.v1": payload,
    "brightline.dispatch.planned-outage.registered.v1": payload,
    "brightline.dispatch.planned-outage.cancelled.v1": payload,
    "brightline.callback.reopen.requested.v1": only_if(ours, on_reopen_requested),
    "brightline.casework.case.status-changed.v1": on_case_status_changed,
    "brightline.sla.deadline.opened.v1": only_if(arrival_clock, on_deadline_opened),
}
