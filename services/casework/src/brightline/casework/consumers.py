"""Events casework reacts to, translated into commands: intake's tickets open cases, the SLA
monitor's deadlines become due dates, reminders (催办) and escalations, and callback's reopen
requests reopen cases."""

from __future__ import annotations

from functools import partial

from brightline.casework.domain import commands
from brightline.casework.domain.model import CASE_TYPES
from brightline.contracts import Event
from brightline.contracts.topics import consumed_by
from brightline.messaging import only_if
from brightline.messaging.bus import Translator

CASE_SUBJECT = "case"


def on_ticket_recorded(event: Event) -> commands.ChaseCase | commands.OpenCase | None:
    t = event.payload()
    if t.ticket_type == "consultation" and t.linked_ticket_id:
        # A repeat call about a matter being handled: chase its case (a no-op for repairs).
        return commands.ChaseCase(
            ticket_id=t.linked_ticket_id,
            by_ticket_id=t.ticket_id,
            actor=t.first_ask_owner,
            at=t.recorded_at,
        )
    if t.ticket_type not in CASE_TYPES:
        return None
    return commands.OpenCase(
        ticket_id=t.ticket_id,
        ticket_no=t.ticket_no,
        case_type=t.ticket_type,
        opened_at=t.recorded_at,
        first_ask_owner=t.first_ask_owner,
        description=t.description,
        contact=commands.Contact(t.caller_name, t.phone, t.address, t.customer_id),
        complaint_subtype=t.complaint_subtype,
        complaint_grade=t.complaint_grade,
        anonymous=t.anonymous,
        reported_party=t.reported_party,
    )


def on_owner_changed(event: Event) -> commands.HandCaseOver:
    o = event.payload()
    return commands.HandCaseOver(
        ticket_id=o.ticket_id,
        new_owner=o.new_owner,
        reason=o.reason,
        changed_by=o.changed_by,
        changed_at=o.changed_at,
    )


def _deadline(d) -> dict:
    """What every SLA event about a case's clock says of it."""
    return dict(
        deadline_id=d.deadline_id,
        case_id=d.subject_id,
        limit_key=d.limit_key,
        policy_pack=d.policy_pack,
        due_at=d.due_at,
    )


def on_deadline_opened(event: Event) -> commands.RecordDeadline | None:
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return None
    return commands.RecordDeadline(**_deadline(d), opened_at=d.opened_at, warn_at=d.warn_at)


def on_deadline_warned(event: Event) -> commands.RemindDepartment | None:
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return None
    return commands.RemindDepartment(**_deadline(d), warned_at=d.warned_at, notify=tuple(d.notify))


def on_deadline_breached(event: Event) -> commands.EscalateToSupervisor | None:
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return None
    return commands.EscalateToSupervisor(
        **_deadline(d), level=d.level, breached_at=d.breached_at, notify=tuple(d.notify)
    )


def on_deadline_settled(event: Event, *, state: str) -> commands.SettleDeadline | None:
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return None
    return commands.SettleDeadline(d.deadline_id, state)


def on_deadline_moved(event: Event, *, state: str) -> commands.RecordDeadline | None:
    """Paused, resumed or recounted (new calendar data): the case shows the new due time."""
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return None
    return commands.RecordDeadline(
        **_deadline(d), opened_at=None, warn_at=getattr(d, "warn_at", None), state=state
    )


def on_reopen_requested(event: Event) -> commands.ReopenCase | None:
    r = event.payload()
    if r.origin != "casework":
        return None
    return commands.ReopenCase(
        ticket_id=r.ticket_id,
        reason=r.reason,
        requested_at=r.requested_at,
        customer_words=r.customer_words,
    )


def on_callback_outcome(event: Event) -> commands.CloseAfterCallback | None:
    o = event.payload()
    if o.origin != "casework":
        return None
    return commands.CloseAfterCallback(
        ticket_id=o.ticket_id, outcome=o.outcome, recorded_at=o.recorded_at
    )


# What this service subscribes to is declared once, in the topic registry (its ACLs too).
TOPICS = consumed_by("casework")


# Declared filters: the consumer skips a repair ticket or another subject's deadline before
# opening a transaction (no inbox row, no commit); the checks inside the translators stay.
def cases(translate: Translator) -> Translator:
    return only_if(lambda e: e.data.get("subject_type") == CASE_SUBJECT, translate)


def case_or_chase(e: Event) -> bool:
    kind = e.data.get("ticket_type")
    return kind in CASE_TYPES or (kind == "consultation" and bool(e.data.get("linked_ticket_id")))


TRANSLATORS = {
    "brightline.intake.ticket.recorded.v1": only_if(case_or_chase, on_ticket_recorded),
    "brightline.intake.ticket.recorded.v2": only_if(case_or_chase, on_ticket_recorded),
    "brightline.sla.deadline.opened.v1": cases(on_deadline_opened),
    "brightline.sla.deadline.warned.v1": cases(on_deadline_warned),
    "brightline.sla.deadline.breached.v1": cases(on_deadline_breached),
    "brightline.sla.deadline.met.v1": cases(partial(on_deadline_settled, state="met")),
    "brightline.sla.deadline.cancelled.v1": cases(partial(on_deadline_settled, state="cancelled")),
    "brightline.sla.deadline.paused.v1": cases(partial(on_deadline_moved, state="paused")),
    "brightline.sla.deadline.resumed.v1": cases(partial(on_deadline_moved, state="open")),
    "brightline.sla.deadline.rescheduled.v1": cases(partial(on_deadline_moved, state="open")),
    "brightline.callback.reopen.requested.v1": only_if(
        lambda e: e.data.get("origin") == "casework", on_reopen_requested
    ),
    "brightline.intake.ticket.owner-changed.v1": on_owner_changed,
    "brightline.callback.outcome.recorded.v1": on_callback_outcome,
}
