"""Casework's use cases as plain functions over a unit of work. Entry points commit."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog

from brightline.casework.adapters.repository import CaseRepository, DepartmentRepository
from brightline.casework.adapters.vault import ContactVault
from brightline.casework.domain import commands, events
from brightline.casework.domain.confidentiality import CONTACT_FIELDS, Confidentiality
from brightline.casework.domain.model import Case, CaseError, NotYourCase
from brightline.casework.first_ask import transfer_due
from brightline.casework.settings import CaseworkSettings
from brightline.contracts.events.casework import (
    CaseChasedV1,
    CaseEscalatedV1,
    CaseOpenedV1,
    CaseRemindedV1,
    CaseStatusChangedV1,
)
from brightline.etiquette import ensure_polite
from brightline.messaging import Handler, MessageBus, UnitOfWork

log = structlog.get_logger()


class CaseNotFound(CaseError):
    kind = "not-found"


class UnknownDepartment(CaseError):
    kind = "unknown-department"


async def open_case(
    command: commands.OpenCase,
    uow: UnitOfWork,
    *,
    vault: ContactVault,
    tz: str,
) -> Case:
    repo = CaseRepository(uow.session)
    existing = await repo.by_ticket(command.ticket_id)
    if existing:
        return existing
    due, provisional = transfer_due(command.case_type, command.opened_at, tz=tz)
    if provisional:
        # Counted weekends-only into a year the calendar does not know yet; the SLA monitor
        # alarms and recomputes it when the year's holiday notice is entered.
        log.error(
            "transfer deadline provisional: calendar data missing", ticket_id=command.ticket_id
        )
    contact = commands.Contact() if command.anonymous else command.contact
    case = Case.open(
        id=str(uuid.uuid4()),
        ticket_id=command.ticket_id,
        ticket_no=command.ticket_no,
        case_type=command.case_type,
        opened_at=command.opened_at,
        first_ask_owner=command.first_ask_owner,
        description=command.description,
        transfer_due=due,
        complaint_subtype=command.complaint_subtype,
        complaint_grade=command.complaint_grade,
        anonymous=command.anonymous or contact.is_empty(),
        reported_party=command.reported_party,
    )
    await repo.add(case)
    if not contact.is_empty():
        await repo.put_contact(case.id, vault.seal_contact(contact))
    publish(case, uow)
    log.info("case opened", case_id=case.id, ticket_id=case.ticket_id, case_type=case.case_type)
    return case


async def _load(repo: CaseRepository, case_id: str) -> Case:
    case = await repo.get(case_id, for_update=True)
    if case is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    return case


def _acting_department(actor: commands.Actor) -> str | None:
    if actor.is_supervisor:
        return None
    if actor.department_id is None:
        raise NotYourCase("only the department handling the case, or a supervisor, may do this")
    return actor.department_id


async def transfer_case(command: commands.TransferCase, uow: UnitOfWork, *, now: datetime) -> Case:
    repo = CaseRepository(uow.session)
    case = await _load(repo, command.case_id)
    actor = command.actor
    if not (
        actor.is_supervisor
        or actor.subject == case.first_ask_owner
        or (actor.department_id and actor.department_id == case.department_id)
    ):
        raise NotYourCase(
            "only the first-ask owner, the handling department or a supervisor may transfer"
        )
    department = await DepartmentRepository(uow.session).get(command.department_id)
    if department is None or not department.active:
        raise UnknownDepartment(f"no active department {command.department_id}")
    if case.case_type not in department.case_types:
        raise UnknownDepartment(
            f"department {command.department_id} does not handle {case.case_type} cases "
            f"(handles: {', '.join(department.case_types)})"
        )
    case.transfer(
        department_id=command.department_id, actor=actor.subject, at=now, note=command.note
    )
    await repo.save(case)
    publish(case, uow)
    return case


async def accept_case(command: commands.AcceptCase, uow: UnitOfWork, *, now: datetime) -> Case:
    repo = CaseRepository(uow.session)
    case = await _load(repo, command.case_id)
    case.accept(
        actor=command.actor.subject, at=now, actor_department=_acting_department(command.actor)
    )
    await repo.save(case)
    publish(case, uow)
    return case


async def investigate_case(
    command: commands.InvestigateCase, uow: UnitOfWork, *, now: datetime
) -> Case:
    repo = CaseRepository(uow.session)
    case = await _load(repo, command.case_id)
    case.investigate(
        actor=command.actor.subject,
        at=now,
        note=command.note,
        actor_department=_acting_department(command.actor),
    )
    await repo.save(case)
    publish(case, uow)
    return case


async def reply_to_case(command: commands.ReplyToCase, uow: UnitOfWork, *, now: datetime) -> Case:
    ensure_polite(command.text)  # ForbiddenPhraseError names the phrase; nothing is written
    repo = CaseRepository(uow.session)
    case = await _load(repo, command.case_id)
    case.reply(
        text=command.text,
        actor=command.actor.subject,
        at=now,
        actor_department=_acting_department(command.actor),
    )
    await repo.save(case)
    publish(case, uow)
    return case


async def send_back_reply(
    command: commands.SendBackReply, uow: UnitOfWork, *, now: datetime
) -> Case:
    repo = CaseRepository(uow.session)
    case = await _load(repo, command.case_id)
    actor = command.actor
    if not (actor.is_supervisor or actor.subject == case.first_ask_owner):
        raise NotYourCase("only the first-ask owner or a supervisor sends a reply back")
    case.send_back(reason=command.reason, actor=actor.subject, at=now)
    await repo.save(case)
    publish(case, uow)
    return case


async def return_to_centre(
    command: commands.ReturnToCentre, uow: UnitOfWork, *, now: datetime, tz: str
) -> Case:
    repo = CaseRepository(uow.session)
    case = await _load(repo, command.case_id)
    due, _ = transfer_due(case.case_type, now, tz=tz)
    case.return_to_centre(
        reason=command.reason,
        actor=command.actor.subject,
        at=now,
        actor_department=_acting_department(command.actor),
        transfer_due=due,
    )
    await repo.save(case)
    publish(case, uow)
    return case


async def answer_customer(
    command: commands.AnswerCustomer, uow: UnitOfWork, *, now: datetime
) -> Case:
    ensure_polite(command.text)
    repo = CaseRepository(uow.session)
    case = await _load(repo, command.case_id)
    actor = command.actor
    if not (
        actor.is_supervisor
        or actor.subject == case.first_ask_owner
        or (actor.department_id and actor.department_id == case.department_id)
    ):
        raise NotYourCase(
            "only the first-ask owner, the handling department or a supervisor answers the customer"
        )
    case.answer(text=command.text, actor=actor.subject, at=now)
    await repo.save(case)
    publish(case, uow)
    return case


async def close_case(command: commands.CloseCase, uow: UnitOfWork, *, now: datetime) -> Case:
    repo = CaseRepository(uow.session)
    case = await _load(repo, command.case_id)
    case.close(actor=command.actor.subject, at=now, note=command.note)
    await repo.save(case)
    publish(case, uow)
    return case


async def reopen_case(command: commands.ReopenCase, uow: UnitOfWork) -> Case | None:
    repo = CaseRepository(uow.session)
    case = await repo.by_ticket(command.ticket_id, for_update=True)
    if case is None:
        log.warning("reopen requested for a ticket with no case", ticket_id=command.ticket_id)
        return None
    reason = (
        command.reason
        if not command.customer_words
        else f"{command.reason} — 客户原话: {command.customer_words}"
    )
    case.reopen(reason=reason, actor="callback", at=command.requested_at)
    await repo.save(case)
    publish(case, uow)
    return case


async def hand_case_over(command: commands.HandCaseOver, uow: UnitOfWork) -> Case | None:
    repo = CaseRepository(uow.session)
    case = await repo.by_ticket(command.ticket_id, for_update=True)
    if case is None:
        return None  # not a case type; intake's ticket topic is ordered per ticket, so never early
    if case.hand_over(
        to=command.new_owner, actor=command.changed_by, at=command.changed_at, reason=command.reason
    ):
        await repo.save(case)
        log.info("case handed over", case_id=case.id, ticket_id=case.ticket_id)
    return case


async def chase_case(command: commands.ChaseCase, uow: UnitOfWork) -> Case | None:
    repo = CaseRepository(uow.session)
    case = await repo.by_ticket(command.ticket_id, for_update=True)
    if case is None or not case.chase(
        by_ticket_id=command.by_ticket_id, actor=command.actor, at=command.at
    ):
        return None
    await repo.save(case)
    publish(case, uow)
    return case


# What the callback found, said on the case's closing step (归档).
CALLBACK_CLOSING_NOTES = {
    "satisfied": "回访客户满意，归档",
    "basically_satisfied": "回访客户基本满意，归档",
    "declined": "客户拒绝回访，归档",
    "unreachable": "多次回访未能联系到客户，归档",
}


async def close_after_callback(
    command: commands.CloseAfterCallback, uow: UnitOfWork
) -> Case | None:
    """The loop closes (闭环): an answered case whose callback ended is archived. An unsatisfied
    customer reopens it instead (callback's reopen request)."""
    note = CALLBACK_CLOSING_NOTES.get(command.outcome)
    repo = CaseRepository(uow.session)
    case = await repo.by_ticket(command.ticket_id, for_update=True)
    if note is None or case is None or case.status != "answered":
        return None
    case.close(actor="callback", at=command.recorded_at, note=note)
    await repo.save(case)
    publish(case, uow)
    return case


# --- deadlines learnt from the SLA monitor ---------------------------------------------------------


async def record_deadline(command: commands.RecordDeadline, uow: UnitOfWork) -> None:
    repo = CaseRepository(uow.session)
    if await repo.get(command.case_id) is None:
        log.warning(
            "deadline for an unknown case", case_id=command.case_id, deadline_id=command.deadline_id
        )
        return
    await repo.upsert_deadline(
        {
            "deadline_id": command.deadline_id,
            "case_id": command.case_id,
            "limit_key": command.limit_key,
            "policy_pack": command.policy_pack,
            "opened_at": command.opened_at,
            "warn_at": command.warn_at,
            "due_at": command.due_at,
            "state": command.state,
        }
    )


async def _case_of_deadline(
    repo: CaseRepository,
    command: commands.RemindDepartment | commands.EscalateToSupervisor,
    fired: str,
    *,
    warn_at: datetime | None,
) -> Case | None:
    """The case a deadline's warning or breach is about, locked, with the deadline's new state
    kept; None (logged) for a case this service does not know."""
    case = await repo.get(command.case_id, for_update=True)
    if case is None:
        log.warning(f"{fired} for an unknown case", case_id=command.case_id)
        return None
    await repo.upsert_deadline(
        {
            "deadline_id": command.deadline_id,
            "case_id": case.id,
            "limit_key": command.limit_key,
            "policy_pack": command.policy_pack,
            "opened_at": None,
            "warn_at": warn_at,
            "due_at": command.due_at,
            "state": {"warning": "warned", "breach": "breached"}[fired],
        }
    )
    return case


async def remind_department(command: commands.RemindDepartment, uow: UnitOfWork) -> Case | None:
    repo = CaseRepository(uow.session)
    case = await _case_of_deadline(repo, command, "warning", warn_at=command.warned_at)
    if case is None:
        return None
    fresh = await repo.add_reminder(
        {
            "case_id": case.id,
            "deadline_id": command.deadline_id,
            "limit_key": command.limit_key,
            "department_id": case.department_id,
            "due_at": command.due_at,
            "warned_at": command.warned_at,
            "notify": list(command.notify),
        }
    )
    if fresh:
        case.note_reminder(limit_key=command.limit_key, due_at=command.due_at, at=command.warned_at)
        await repo.save(case)
        publish(case, uow, deadline_id=command.deadline_id)
    return case


async def chase_from_supervisor(command: commands.ChaseFromSupervisor, uow: UnitOfWork) -> Case:
    """Recorded on the case as a reminder by the supervisor and published like the SLA monitor's
    own (CaseRemindedV1), so the department hears of it the same way; unlike those, every chase
    counts: a supervisor may chase twice."""
    repo = CaseRepository(uow.session)
    case = await repo.get(command.case_id, for_update=True)
    if case is None:
        raise CaseNotFound(f"case {command.case_id} does not exist")
    case.note_reminder(
        limit_key=command.limit_key, due_at=command.due_at, at=command.at, actor=command.actor
    )
    await repo.save(case)
    publish(case, uow, deadline_id=command.deadline_id)
    return case


async def escalate_to_supervisor(
    command: commands.EscalateToSupervisor, uow: UnitOfWork
) -> Case | None:
    repo = CaseRepository(uow.session)
    case = await _case_of_deadline(repo, command, "breach", warn_at=None)
    if case is None:
        return None
    fresh = await repo.add_escalation(
        {
            "case_id": case.id,
            "deadline_id": command.deadline_id,
            "limit_key": command.limit_key,
            "level": command.level,
            "department_id": case.department_id,
            "due_at": command.due_at,
            "breached_at": command.breached_at,
            "notify": list(command.notify),
        }
    )
    if fresh:
        case.note_escalation(
            limit_key=command.limit_key,
            level=command.level,
            due_at=command.due_at,
            at=command.breached_at,
        )
        await repo.save(case)
        publish(case, uow, deadline_id=command.deadline_id)
    return case


async def settle_deadline(command: commands.SettleDeadline, uow: UnitOfWork) -> None:
    await CaseRepository(uow.session).set_deadline_state(command.deadline_id, command.state)


# --- confidential reads --------------------------------------------------------------------------


class ContactRefused(CaseError):
    kind = "confidential"


async def read_contact(
    command: commands.ReadContact,
    uow: UnitOfWork,
    *,
    vault: ContactVault,
    rules: Confidentiality,
    now: datetime,
) -> tuple[Case, commands.Contact]:
    """The reporter's identity, if the viewer may read it. Every attempt is audited (the entry
    point commits the audit row even when the read is refused)."""
    repo = CaseRepository(uow.session)
    case_id, viewer = command.case_id, command.viewer
    case = await repo.get(case_id)
    if case is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    visible = rules.may_see_case(case, viewer)
    granted = visible and rules.may_read_contact(case, viewer)
    await repo.audit_read(
        case_id=case.id,
        reader=viewer.subject,
        roles=viewer.roles,
        department_id=viewer.department_id,
        fields=CONTACT_FIELDS,
        granted=granted,
        at=now,
    )
    if not visible:
        # A named staff member learns nothing, not even that the case exists (the attempt is audited).
        raise CaseNotFound(f"case {case_id} does not exist")
    if not granted:
        raise ContactRefused(
            f"the reporter's identity on this {case.case_type} is not visible to your role"
        )
    row = await repo.contact_row(case.id)
    return case, vault.open_contact(row) if row else commands.Contact()


# --- integration events ----------------------------------------------------------------------------


def publish(case: Case, uow: UnitOfWork, *, deadline_id: str | None = None) -> None:
    for event in case.events:
        if isinstance(event, events.CaseOpened):
            c = event.case
            uow.emit(
                CaseOpenedV1(
                    case_id=c.id,
                    ticket_id=c.ticket_id,
                    case_type=c.case_type,
                    opened_at=c.opened_at,
                    first_ask_owner=c.first_ask_owner,
                    complaint_subtype=c.complaint_subtype,
                    complaint_grade=c.complaint_grade,
                )
            )
        elif isinstance(event, events.CaseStatusChanged):
            uow.emit(
                CaseStatusChangedV1(
                    case_id=case.id,
                    ticket_id=case.ticket_id,
                    case_type=case.case_type,
                    status=event.status,
                    previous_status=event.previous_status,
                    changed_at=event.at,
                    actor=event.actor,
                    department_id=event.department_id,
                    note=event.note,
                    reopen_count=case.reopen_count,
                    reply_round=case.reply_round,
                    transfer_round=case.transfer_round,
                )
            )
        elif isinstance(event, events.CaseChased):
            uow.emit(
                CaseChasedV1(
                    case_id=case.id,
                    ticket_id=case.ticket_id,
                    case_type=case.case_type,
                    status=case.status,
                    chased_at=event.at,
                    by_ticket_id=event.by_ticket_id,
                    department_id=case.department_id,
                )
            )
        elif isinstance(event, events.CaseReminded):
            uow.emit(
                CaseRemindedV1(
                    case_id=case.id,
                    ticket_id=case.ticket_id,
                    case_type=case.case_type,
                    status=case.status,
                    limit_key=event.limit_key,
                    due_at=event.due_at,
                    reminded_at=event.at,
                    deadline_id=deadline_id or "",
                    department_id=case.department_id,
                )
            )
        elif isinstance(event, events.CaseEscalated):
            uow.emit(
                CaseEscalatedV1(
                    case_id=case.id,
                    ticket_id=case.ticket_id,
                    case_type=case.case_type,
                    status=case.status,
                    limit_key=event.limit_key,
                    level=event.level,
                    due_at=event.due_at,
                    escalated_at=event.at,
                    deadline_id=deadline_id or "",
                    department_id=case.department_id,
                )
            )
    case.events.clear()


HANDLERS: dict[type, Handler] = {
    commands.ChaseFromSupervisor: chase_from_supervisor,
    commands.OpenCase: open_case,
    commands.TransferCase: transfer_case,
    commands.AcceptCase: accept_case,
    commands.InvestigateCase: investigate_case,
    commands.ReplyToCase: reply_to_case,
    commands.AnswerCustomer: answer_customer,
    commands.SendBackReply: send_back_reply,
    commands.ReturnToCentre: return_to_centre,
    commands.CloseCase: close_case,
    commands.ReopenCase: reopen_case,
    commands.HandCaseOver: hand_case_over,
    commands.CloseAfterCallback: close_after_callback,
    commands.ChaseCase: chase_case,
    commands.RecordDeadline: record_deadline,
    commands.RemindDepartment: remind_department,
    commands.EscalateToSupervisor: escalate_to_supervisor,
    commands.SettleDeadline: settle_deadline,
    commands.ReadContact: read_contact,
}


def message_bus(
    settings: CaseworkSettings, vault: ContactVault, rules: Confidentiality
) -> MessageBus:
    return MessageBus(
        HANDLERS,
        vault=lambda: vault,
        rules=lambda: rules,
        tz=lambda: settings.business_timezone,
    )
