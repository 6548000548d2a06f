"""Events casework reacts to, translated into commands: intake's tickets open cases, the SLA
monitor's deadlines become due dates, reminders (催办) and escalations, and callback's reopen
requests reopen cases."""

from __future__ import annotations

from functools import partial

from brightline.casework import handlers
from brightline.casework.adapters.vault import ContactVault
from brightline.casework.domain import commands
from brightline.casework.domain.model import CASE_TYPES
from brightline.contracts import Event
from brightline.contracts.sealed import PersonalDataSeal
from brightline.contracts.topics import CALLBACK_TASKS, INTAKE_TICKETS, SLA_DEADLINES
from brightline.messaging import Route, UnitOfWork
from brightline.messaging.consumer import handles_only

CASE_SUBJECT = "case"


async def on_ticket_recorded(
    event: Event, uow: UnitOfWork, *, seal: PersonalDataSeal, vault: ContactVault, tz: str
) -> None:
    # Opened only to be sealed again at once with the vault's own key.
    t = seal.opened(event.payload())
    if t.ticket_type == "consultation" and t.linked_ticket_id:
        # A repeat call about a matter being handled: chase its case (a no-op for repairs).
        await handlers.chase_case(
            commands.ChaseCase(
                ticket_id=t.linked_ticket_id,
                by_ticket_id=t.ticket_id,
                actor=t.first_ask_owner,
                at=t.recorded_at,
            ),
            uow,
        )
        return
    if t.ticket_type not in CASE_TYPES:
        return
    await handlers.open_case(
        commands.OpenCase(
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
        ),
        uow,
        vault=vault,
        tz=tz,
    )


async def on_owner_changed(event: Event, uow: UnitOfWork) -> None:
    o = event.payload()
    await handlers.hand_case_over(
        commands.HandCaseOver(
            ticket_id=o.ticket_id,
            new_owner=o.new_owner,
            reason=o.reason,
            changed_by=o.changed_by,
            changed_at=o.changed_at,
        ),
        uow,
    )


async def on_deadline_opened(event: Event, uow: UnitOfWork) -> None:
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return
    await handlers.record_deadline(
        commands.RecordDeadline(
            deadline_id=d.deadline_id,
            case_id=d.subject_id,
            limit_key=d.limit_key,
            policy_pack=d.policy_pack,
            opened_at=d.opened_at,
            warn_at=d.warn_at,
            due_at=d.due_at,
        ),
        uow,
    )


async def on_deadline_warned(event: Event, uow: UnitOfWork) -> None:
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return
    await handlers.remind_department(
        commands.RemindDepartment(
            deadline_id=d.deadline_id,
            case_id=d.subject_id,
            limit_key=d.limit_key,
            due_at=d.due_at,
            warned_at=d.warned_at,
            notify=tuple(d.notify),
            policy_pack=d.policy_pack,
        ),
        uow,
    )


async def on_deadline_breached(event: Event, uow: UnitOfWork) -> None:
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return
    await handlers.escalate_to_supervisor(
        commands.EscalateToSupervisor(
            deadline_id=d.deadline_id,
            case_id=d.subject_id,
            limit_key=d.limit_key,
            level=d.level,
            due_at=d.due_at,
            breached_at=d.breached_at,
            notify=tuple(d.notify),
            policy_pack=d.policy_pack,
        ),
        uow,
    )


async def on_deadline_settled(event: Event, uow: UnitOfWork, *, state: str) -> None:
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return
    await handlers.settle_deadline(commands.SettleDeadline(d.deadline_id, state), uow)


async def on_deadline_moved(event: Event, uow: UnitOfWork, *, state: str) -> None:
    """Paused, resumed or recounted (new calendar data): the case shows the new due time."""
    d = event.payload()
    if d.subject_type != CASE_SUBJECT:
        return
    await handlers.record_deadline(
        commands.RecordDeadline(
            deadline_id=d.deadline_id,
            case_id=d.subject_id,
            limit_key=d.limit_key,
            policy_pack=d.policy_pack,
            opened_at=None,
            warn_at=getattr(d, "warn_at", None),
            due_at=d.due_at,
            state=state,
        ),
        uow,
    )


async def on_reopen_requested(event: Event, uow: UnitOfWork) -> None:
    r = event.payload()
    if r.origin != "casework":
        return
    await handlers.reopen_case(
        commands.ReopenCase(
            ticket_id=r.ticket_id,
            reason=r.reason,
            requested_at=r.requested_at,
            customer_words=r.customer_words,
        ),
        uow,
    )


async def on_callback_outcome(event: Event, uow: UnitOfWork) -> None:
    o = event.payload()
    if o.origin != "casework":
        return
    await handlers.close_after_callback(
        commands.CloseAfterCallback(
            ticket_id=o.ticket_id, outcome=o.outcome, recorded_at=o.recorded_at
        ),
        uow,
    )


TOPICS = [INTAKE_TICKETS, SLA_DEADLINES, CALLBACK_TASKS]


def routes(
    *, seal: PersonalDataSeal, vault: ContactVault, tz: str = "Asia/Shanghai"
) -> dict[str, Route]:
    # Declared filters: the consumer skips a repair ticket or another subject's deadline before
    # opening a transaction (no inbox row, no commit); the checks inside the routes stay.
    def cases(route: Route) -> Route:
        return handles_only(lambda e: e.data.get("subject_type") == CASE_SUBJECT, route)

    def case_or_chase(e: Event) -> bool:
        kind = e.data.get("ticket_type")
        return kind in CASE_TYPES or (
            kind == "consultation" and bool(e.data.get("linked_ticket_id"))
        )

    recorded = handles_only(
        case_or_chase, partial(on_ticket_recorded, seal=seal, vault=vault, tz=tz)
    )
    return {
        "brightline.intake.ticket.recorded.v1": recorded,
        "brightline.intake.ticket.recorded.v2": recorded,
        "brightline.sla.deadline.opened.v1": cases(on_deadline_opened),
        "brightline.sla.deadline.warned.v1": cases(on_deadline_warned),
        "brightline.sla.deadline.breached.v1": cases(on_deadline_breached),
        "brightline.sla.deadline.met.v1": cases(partial(on_deadline_settled, state="met")),
        "brightline.sla.deadline.cancelled.v1": cases(
            partial(on_deadline_settled, state="cancelled")
        ),
        "brightline.sla.deadline.paused.v1": cases(partial(on_deadline_moved, state="paused")),
        "brightline.sla.deadline.resumed.v1": cases(partial(on_deadline_moved, state="open")),
        "brightline.sla.deadline.rescheduled.v1": cases(partial(on_deadline_moved, state="open")),
        "brightline.callback.reopen.requested.v1": handles_only(
            lambda e: e.data.get("origin") == "casework", on_reopen_requested
        ),
        "brightline.intake.ticket.owner-changed.v1": on_owner_changed,
        "brightline.callback.outcome.recorded.v1": on_callback_outcome,
    }
