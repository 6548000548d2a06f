"""Cases, departments, reminders, escalations and the confidential-read audit over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from brightline.casework.adapters.repository import CaseRepository, DepartmentRepository
from brightline.casework.api.deps import RulesDep, actor_of, viewer_of
from brightline.casework.api.schemas import (
    AnswerCreate,
    CaseRead,
    CaseSummary,
    ChaseCreate,
    CloseCreate,
    ConfidentialReadRead,
    ContactRead,
    DeadlineRead,
    DepartmentRead,
    DepartmentUpdate,
    EscalationRead,
    InvestigationCreate,
    ReminderRead,
    ReplyCreate,
    ReturnCreate,
    ReturnRead,
    SendBackCreate,
    StepRead,
    TransferCreate,
)
from brightline.casework.domain import commands
from brightline.casework.domain.confidentiality import Confidentiality, Viewer
from brightline.casework.domain.model import Case, CaseError, IllegalTransition, Step
from brightline.etiquette import ForbiddenPhraseError
from brightline.messaging import BusDep, MessageBus, UnitOfWork, UnitOfWorkDep
from brightline.platform import clock
from brightline.platform.auth import (
    Allow,
    Department,
    Principal,
    Role,
    Staff,
    Supervisor,
    SupervisorOrSystem,
)
from brightline.platform.problems import Problem

cases_router = APIRouter(prefix="/cases", tags=["cases"])
departments_router = APIRouter(prefix="/departments", tags=["departments"])
supervision_router = APIRouter(tags=["supervision"])


def problem_of(error: CaseError) -> Problem:
    status = {
        "not-found": 404,
        "not-your-case": 403,
        "confidential": 403,
        "illegal-transition": 409,
        "unknown-department": 422,
    }.get(error.kind, 400)
    extensions: dict[str, Any] = (
        {"allowed_from": error.allowed} if isinstance(error, IllegalTransition) else {}
    )
    title = {
        "not-found": "No such case",
        "not-your-case": "This case is not yours to act on",
        "confidential": "Confidential: not visible to your role",
        "illegal-transition": "The case cannot do that now",
        "unknown-department": "No such department for this case",
    }.get(error.kind, "Case error")
    return Problem(status, error.kind, title, str(error), **extensions)


def phrase_problem(error: ForbiddenPhraseError) -> Problem:
    return Problem(
        422,
        "forbidden-phrase",
        "The text contains a forbidden service phrase (服务忌语)",
        str(error),
        phrases=[v.phrase for v in error.violations],
        errors=[
            {
                "field": "text",
                "message": f"forbidden phrase “{v.phrase}”",
                "start": v.start,
                "end": v.end,
                "suggestion": v.suggestion,
            }
            for v in error.violations
        ],
    )


async def visible_case(
    uow: UnitOfWork, case_id: str, viewer: Viewer, rules: Confidentiality
) -> Case:
    case = await CaseRepository(uow.session).get(case_id)
    if case is None or not rules.may_see_case(case, viewer):
        raise Problem(404, "not-found", "No such case", f"case {case_id} does not exist")
    return case


async def case_view(
    uow: UnitOfWork, case: Case, viewer: Viewer, rules: Confidentiality
) -> CaseRead:
    repo = CaseRepository(uow.session)
    deadlines = [
        DeadlineRead.model_validate(r, from_attributes=True) for r in await repo.deadlines(case.id)
    ]
    returned = (await repo.returns([case.id])).get(case.id) if case.status == "opened" else None
    return CaseRead(
        **summary(
            case, (await repo.reply_dues([case.id])).get(case.id), case.sent_back, returned
        ).model_dump(),
        description=case.description,
        reported_party=case.reported_party if rules.may_read_contact(case, viewer) else None,
        reply_text=case.reply_text,
        answer_text=case.answer_text,
        reopen_count=case.reopen_count,
        deadlines=deadlines,
        reminders=[
            ReminderRead.model_validate(r, from_attributes=True)
            for r in await repo.reminders(case_id=case.id)
        ],
        escalations=[
            EscalationRead.model_validate(r, from_attributes=True)
            for r in await repo.escalations(case_id=case.id)
        ],
        history=[StepRead(**s.__dict__) for s in case.history],
    )


def summary(
    case: Case, reply_due: datetime | None, sent_back: bool, returned: Step | None = None
) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        ticket_id=case.ticket_id,
        ticket_no=case.ticket_no,
        case_type=case.case_type,
        status=case.status,
        opened_at=case.opened_at,
        first_ask_owner=case.first_ask_owner,
        department_id=case.department_id,
        complaint_subtype=case.complaint_subtype,
        complaint_grade=case.complaint_grade,
        anonymous=case.anonymous,
        confidential=case.confidential,
        transfer_due=case.transfer_due,
        reply_due=reply_due,
        sent_back=sent_back,
        returned=ReturnRead(
            department_id=returned.department_id,
            actor=returned.actor,
            at=returned.at,
            reason=returned.note,
        )
        if returned
        else None,
    )


# --- reading cases -----------------------------------------------------------------------------------


@cases_router.get("", response_model=list[CaseSummary])
async def list_cases(
    uow: UnitOfWorkDep,
    staff: Staff,
    rules: RulesDep,
    status: Annotated[
        list[str] | None, Query(description="One status, or several (repeated): a queue's")
    ] = None,
    case_type: str | None = None,
    department_id: str | None = None,
    ticket_id: str | None = None,
    first_ask_owner: str | None = None,
    oldest_first: Annotated[
        bool, Query(description="A queue's order: the longest waiting first (default newest)")
    ] = False,
) -> list[CaseSummary]:
    """Cases visible to the caller (caseworkers: their department's; never a report naming the
    caller), 200 at most. `first_ask_owner` lists an agent's own cases, handed-over ones
    included; `oldest_first` reads a queue (the cases waiting for a department) so the longest
    waiting are never the ones left out."""
    viewer = viewer_of(staff)
    if viewer.department_id and not staff.has(Role.SUPERVISOR, Role.AGENT):
        department_id = viewer.department_id
    async with uow:
        repo = CaseRepository(uow.session)
        if ticket_id:
            found = await repo.by_ticket(ticket_id)
            found_cases = [found] if found else []
        else:
            found_cases = await repo.list(
                statuses=status,
                case_type=case_type,
                department_id=department_id,
                first_ask_owner=first_ask_owner,
                oldest_first=oldest_first,
            )
        visible = [c for c in found_cases if rules.may_see_case(c, viewer)]
        dues = await repo.reply_dues([c.id for c in visible])
        # Only a case under investigation can be waiting for a new reply.
        sent_back = await repo.sent_back([c.id for c in visible if c.status == "investigating"])
        # Only an opened case can be waiting because a department handed it back.
        returns = await repo.returns([c.id for c in visible if c.status == "opened"])
    return [summary(c, dues.get(c.id), c.id in sent_back, returns.get(c.id)) for c in visible]


@cases_router.get("/{case_id}", response_model=CaseRead)
async def get_case(case_id: str, uow: UnitOfWorkDep, staff: Staff, rules: RulesDep) -> CaseRead:
    """One case with its deadlines, reminders, escalations and whole history. No reporter identity."""
    viewer = viewer_of(staff)
    async with uow:
        case = await visible_case(uow, case_id, viewer, rules)
        return await case_view(uow, case, viewer, rules)


@cases_router.get("/{case_id}/contact", response_model=ContactRead)
async def read_case_contact(
    case_id: str, uow: UnitOfWorkDep, bus: BusDep, staff: Staff
) -> ContactRead:
    """The reporter's identity and contact, for the roles the confidentiality rules allow. Audited."""
    async with uow:
        try:
            case, contact = await bus.handle(commands.ReadContact(case_id, viewer_of(staff)), uow)
        except CaseError as error:
            await uow.commit()  # the refused attempt stays in the audit
            raise problem_of(error) from error
        await uow.commit()
    return ContactRead(
        case_id=case.id,
        anonymous=case.anonymous,
        caller_name=contact.caller_name,
        phone=contact.phone,
        address=contact.address,
        customer_id=contact.customer_id,
    )


# --- moving cases -----------------------------------------------------------------------------------


async def _command(
    case_id: str,
    uow: UnitOfWork,
    bus: MessageBus,
    principal: Principal,
    rules: Confidentiality,
    command: object,
) -> CaseRead:
    viewer = viewer_of(principal)
    async with uow:
        await visible_case(uow, case_id, viewer, rules)
        try:
            case = await bus.handle(command, uow)
        except CaseError as error:
            raise problem_of(error) from error
        except ForbiddenPhraseError as error:
            raise phrase_problem(error) from error
        await uow.commit()
    async with uow:
        updated = await CaseRepository(uow.session).get(case.id)
        assert updated is not None, "a case is never deleted"
        return await case_view(uow, updated, viewer, rules)


@cases_router.post("/{case_id}/transfer", response_model=CaseRead)
async def transfer_case(
    case_id: str,
    body: TransferCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    staff: Staff,
    rules: RulesDep,
) -> CaseRead:
    """Transfer to the responsible department (首问负责制: within 1 working day of opening)."""
    command = commands.TransferCase(case_id, body.department_id, actor_of(staff), body.note)
    return await _command(case_id, uow, bus, staff, rules, command)


@cases_router.post("/{case_id}/chase", response_model=CaseRead)
async def chase_case(
    case_id: str,
    body: ChaseCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    staff: Supervisor,
    rules: RulesDep,
) -> CaseRead:
    """The duty supervisor chases (催办) the department handling the case about one deadline:
    kept in the case's history and published as brightline.casework.case.reminded.v1."""
    command = commands.ChaseFromSupervisor(
        case_id=case_id,
        deadline_id=body.deadline_id,
        limit_key=body.limit_key,
        due_at=body.due_at,
        actor=staff.subject,
        at=clock.now(),
    )
    return await _command(case_id, uow, bus, staff, rules, command)


@cases_router.post("/{case_id}/accept", response_model=CaseRead)
async def accept_case(
    case_id: str, uow: UnitOfWorkDep, bus: BusDep, staff: Department, rules: RulesDep
) -> CaseRead:
    """The department the case was transferred to accepts it."""
    command = commands.AcceptCase(case_id, actor_of(staff))
    return await _command(case_id, uow, bus, staff, rules, command)


@cases_router.post("/{case_id}/investigation", response_model=CaseRead)
async def investigate_case(
    case_id: str,
    body: InvestigationCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    staff: Department,
    rules: RulesDep,
) -> CaseRead:
    """The department records that it is investigating, with its notes."""
    command = commands.InvestigateCase(case_id, body.note, actor_of(staff))
    return await _command(case_id, uow, bus, staff, rules, command)


@cases_router.post("/{case_id}/reply", response_model=CaseRead)
async def reply_to_case(
    case_id: str,
    body: ReplyCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    staff: Department,
    rules: RulesDep,
) -> CaseRead:
    """The department's reply. Refused with 422 naming the phrase if it contains a 服务忌语."""
    command = commands.ReplyToCase(case_id, body.text, actor_of(staff))
    return await _command(case_id, uow, bus, staff, rules, command)


@cases_router.post("/{case_id}/send-back", response_model=CaseRead)
async def send_back_reply(
    case_id: str,
    body: SendBackCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    staff: Staff,
    rules: RulesDep,
) -> CaseRead:
    """审核: the first-ask owner (or a supervisor) reads the department's reply before answering
    the customer; one that does not do goes back to the department (退回重办), investigating
    again, with the reason. The first-ask owner's answer clock stops until the next reply."""
    command = commands.SendBackReply(case_id, body.reason, actor_of(staff))
    return await _command(case_id, uow, bus, staff, rules, command)


@cases_router.post("/{case_id}/return", response_model=CaseRead)
async def return_to_centre(
    case_id: str,
    body: ReturnCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    staff: Department,
    rules: RulesDep,
) -> CaseRead:
    """回退: the department holding the case finds it is not its own and knows no department
    to pass it to; the case goes back to the centre, which transfers it anew within the
    transfer limit, counted again from the return. The reason is kept in the history and shown
    to the duty supervisor; the customer's reply limit runs on."""
    command = commands.ReturnToCentre(case_id, body.reason, actor_of(staff))
    return await _command(case_id, uow, bus, staff, rules, command)


@cases_router.post("/{case_id}/answer", response_model=CaseRead)
async def answer_customer(
    case_id: str, body: AnswerCreate, uow: UnitOfWorkDep, bus: BusDep, staff: Staff, rules: RulesDep
) -> CaseRead:
    """The first-ask owner or the department answers the customer: the case becomes answered."""
    command = commands.AnswerCustomer(case_id, body.text, actor_of(staff))
    return await _command(case_id, uow, bus, staff, rules, command)


@cases_router.post("/{case_id}/close", response_model=CaseRead)
async def close_case(
    case_id: str,
    body: CloseCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    staff: Supervisor,
    rules: RulesDep,
) -> CaseRead:
    """Archive an answered case (归档)."""
    command = commands.CloseCase(case_id, actor_of(staff), body.note)
    return await _command(case_id, uow, bus, staff, rules, command)


# --- departments as data --------------------------------------------------------------------------


def _department(row) -> DepartmentRead:
    return DepartmentRead(
        id=row.id,
        name=row.name,
        case_types=row.case_types,
        active=row.active,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


@departments_router.put("/{department_id}", response_model=DepartmentRead)
async def put_department(
    department_id: str, body: DepartmentUpdate, uow: UnitOfWorkDep, admin: SupervisorOrSystem
) -> DepartmentRead:
    """Create or update a department and the case types it handles."""
    async with uow:
        repo = DepartmentRepository(uow.session)
        await repo.upsert(
            id=department_id,
            name=body.name,
            case_types=list(body.case_types),
            active=body.active,
            at=clock.now(),
            by=admin.subject,
        )
        row = await repo.get(department_id)
        await uow.commit()
    return _department(row)


@departments_router.get("", response_model=list[DepartmentRead])
async def list_departments(
    uow: UnitOfWorkDep,
    staff: Annotated[
        Principal, Depends(Allow(Role.AGENT, Role.SUPERVISOR, Role.CASEWORKER, Role.INTEGRATION))
    ],
) -> list[DepartmentRead]:
    async with uow:
        return [_department(r) for r in await DepartmentRepository(uow.session).list()]


@departments_router.get("/{department_id}/reminders", response_model=list[ReminderRead])
async def department_reminders(
    department_id: str, uow: UnitOfWorkDep, staff: Department
) -> list[ReminderRead]:
    """Reminders (催办) for a department: its own caseworkers and supervisors see them."""
    if not staff.has(Role.SUPERVISOR) and staff.department_id != department_id:
        raise Problem(
            403, "forbidden", "Not your department", f"you belong to {staff.department_id}"
        )
    async with uow:
        rows = await CaseRepository(uow.session).reminders(department_id=department_id)
    return [ReminderRead.model_validate(r, from_attributes=True) for r in rows]


# --- supervision ------------------------------------------------------------------------------------


@supervision_router.get("/escalations", response_model=list[EscalationRead], tags=["supervision"])
async def list_escalations(uow: UnitOfWorkDep, supervisor: Supervisor) -> list[EscalationRead]:
    """Cases whose deadline passed, escalated to the duty supervisor."""
    async with uow:
        rows = await CaseRepository(uow.session).escalations()
    return [EscalationRead.model_validate(r, from_attributes=True) for r in rows]


@supervision_router.get("/audit/confidential-reads", response_model=list[ConfidentialReadRead])
async def list_confidential_reads(
    uow: UnitOfWorkDep,
    supervisor: Supervisor,
    case_id: str | None = None,
    reader: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ConfidentialReadRead]:
    """Who read (or tried to read) a reporter's identity, and when: newest first."""
    async with uow:
        rows = await CaseRepository(uow.session).audit_rows(
            case_id=case_id, reader=reader, limit=limit
        )
    return [ConfidentialReadRead.model_validate(r, from_attributes=True) for r in rows]


routers = [cases_router, departments_router, supervision_router]
