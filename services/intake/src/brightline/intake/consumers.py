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


def on_promoted(event: Event) -> commands.KeepArrivalDeadline:
    """A follower that stands for itself now: its arrival deadline, told to repeat callers (a
    leading order's comes with its created event, see handlers.work_order_created_v2)."""
    p = event.payload()
    return commands.KeepArrivalDeadline(p.work_order_id, p.ticket_id, p.arrive_by, p.promoted_at)


# Declared (only_if): reopens of dispatch's and casework's tickets, and a promotion that names no
# deadline, open no transaction here, no inbox or audit row.
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
    "brightline.dispatch.work-order.promoted.v2": only_if(
        lambda e: bool(e.data.get("arrive_by")), on_promoted
    ),
}
