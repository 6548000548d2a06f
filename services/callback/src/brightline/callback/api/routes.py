"""Callback over HTTP: the agent's worklist (next task, script, outcome), outage batches, rates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Response, status

from brightline.callback.adapters.repository import ContactRepository, TaskRepository
from brightline.callback.adapters.rule_files import callback_script_rules
from brightline.callback.api.schemas import (
    AssignedTaskRead,
    AttemptRead,
    CallbackRateRead,
    CallbackTaskDetail,
    CallbackTaskRead,
    ContactRead,
    OutcomeCreate,
    RestorationNoticeRead,
    WaitingTasksRead,
)
from brightline.callback.domain import commands
from brightline.callback.domain.model import (
    CallbackPolicy,
    CallbackTask,
    NotLeaseHolder,
    ReasonRequired,
    TaskClosed,
)
from brightline.callback.domain.scripts import callback_script
from brightline.callback.settings import CallbackSettings
from brightline.messaging import BusDep, RuntimeDep, UnitOfWorkDep
from brightline.messaging.http import IdempotencyKey, IdempotentCommand
from brightline.platform import clock
from brightline.platform.auth import Agent, Desk, Supervisor
from brightline.platform.problems import Problem
from brightline.platform.validation import BusinessDay, PageOffset

router = APIRouter(prefix="/callback-tasks", tags=["callback-tasks"])
incidents = APIRouter(prefix="/incidents", tags=["incidents"])
rates = APIRouter(prefix="/callback-rates", tags=["callback-rates"])


def callback_settings(runtime: RuntimeDep) -> CallbackSettings:
    settings = runtime.settings
    assert isinstance(settings, CallbackSettings), "the runtime of callback's own app"
    return settings


def get_policy(runtime: RuntimeDep) -> CallbackPolicy:
    return callback_settings(runtime).policy()


PolicyDep = Annotated[CallbackPolicy, Depends(get_policy)]


def to_read(
    task: CallbackTask, policy: CallbackPolicy, now: datetime | None = None
) -> CallbackTaskRead:
    now = now or clock.now()
    return CallbackTaskRead(
        id=task.id,
        ticket_id=task.ticket_id,
        ticket_type=task.ticket_type,
        origin=task.origin,
        unit_id=task.unit_id,
        incident_id=task.incident_id,
        finished_at=task.finished_at,
        due_at=task.due_at,
        overdue=task.is_open and task.due_at < now,
        status=task.status,
        callable=task.callable,
        attempts=task.attempts,
        max_attempts=policy.max_attempts,
        next_attempt_at=task.next_attempt_at,
        outcome=task.outcome,
        reason=task.reason,
        customer_words=task.customer_words,
        agent_id=task.agent_id,
        lease_holder=task.lease_holder,
        lease_expires_at=task.lease_expires_at,
        restoration_notice_at=task.restoration_notice_at,
        result=task.result,
    )


def _domain_problem(error: Exception) -> Problem:
    if isinstance(error, ReasonRequired):
        return Problem(
            422,
            "reason-required",
            "An unsatisfied outcome needs the reason",
            str(error),
            errors=[{"field": "reason", "message": "required when outcome is unsatisfied"}],
        )
    if isinstance(error, NotLeaseHolder):
        return Problem(
            409,
            "not-lease-holder",
            "You do not hold this task",
            f"{error}; take it with POST /callback-tasks/next (leases expire)",
        )
    if isinstance(error, TaskClosed):
        return Problem(409, "task-closed", "This callback task has already ended", str(error))
    raise error


@router.post(
    "/next",
    response_model=AssignedTaskRead,
    responses={204: {"description": "No callback is due right now"}},
)
async def take_next_task(uow: UnitOfWorkDep, bus: BusDep, agent: Agent, policy: PolicyDep):
    """Hand me the oldest-due callback under a lease. Returns the task I already hold, if any;
    no two agents ever get the same task; a lease that expires returns the task to the pool."""
    now = clock.now()
    async with uow:
        task = await bus.handle(commands.TakeNextTask(agent.subject), uow)
        if task is None:
            await uow.commit()
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        contact = await ContactRepository(uow.session).get(task.ticket_id)
        batch = []
        if task.incident_id:
            batch = [
                t.id
                for t in await TaskRepository(uow.session).of_incident(task.incident_id)
                if t.is_open and t.callable and t.id != task.id
            ]
        await uow.commit()
    return AssignedTaskRead(
        task=to_read(task, policy, now), contact=_contact(task, contact), incident_task_ids=batch
    )


def _contact(task: CallbackTask, contact) -> ContactRead:
    hide_name = task.ticket_type == "report" or (contact.ticket_type == "report")
    return ContactRead(
        phone=contact.phone, customer_name=None if hide_name else contact.caller_name
    )


@router.get("", response_model=list[CallbackTaskRead])
async def find_tasks(
    ticket_id: str, uow: UnitOfWorkDep, staff: Desk, policy: PolicyDep
) -> list[CallbackTaskRead]:
    """Callback tasks of one ticket (no contact details)."""
    async with uow:
        tasks = await TaskRepository(uow.session).for_ticket(ticket_id)
    return [to_read(t, policy) for t in tasks]


@router.get("/waiting", response_model=WaitingTasksRead)
async def waiting_tasks(
    uow: UnitOfWorkDep,
    staff: Desk,
    policy: PolicyDep,
    ticket_type: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: PageOffset = 0,
) -> WaitingTasksRead:
    """The whole worklist: every open callback task (no contact details), filtered by ticket
    type or to the overdue ones."""
    now = clock.now()
    async with uow:
        tasks, total = await TaskRepository(uow.session).waiting(
            ticket_type, now if overdue else None, limit, offset
        )
    return WaitingTasksRead(items=[to_read(t, policy, now) for t in tasks], total=total)


@router.get("/{task_id}", response_model=CallbackTaskDetail)
async def get_task(
    task_id: str, uow: UnitOfWorkDep, staff: Desk, policy: PolicyDep
) -> CallbackTaskDetail:
    async with uow:
        repo = TaskRepository(uow.session)
        task = await repo.get(task_id)
        if task is None:
            raise Problem(
                404, "not-found", "No such callback task", f"callback task {task_id} does not exist"
            )
        attempts = await repo.attempts(task_id)
    return CallbackTaskDetail(
        **to_read(task, policy).model_dump(),
        attempt_log=[AttemptRead.model_validate(a, from_attributes=True) for a in attempts],
    )


@router.get("/{task_id}/script")
async def get_script(task_id: str, uow: UnitOfWorkDep, agent: Agent, runtime: RuntimeDep) -> dict:
    """The callback script for the task I hold: steps in zh and en (the unit and my staff number,
    the day the customer called, the handling result), the satisfaction question and its
    answers, and the number to call (the customer's name is never given for reports)."""
    now = clock.now()
    async with uow:
        task = await TaskRepository(uow.session).get(task_id)
        if task is None:
            raise Problem(
                404, "not-found", "No such callback task", f"callback task {task_id} does not exist"
            )
        if not task.leased_to(agent.subject, now):
            raise Problem(
                409,
                "not-lease-holder",
                "You do not hold this task",
                "the script (with the customer's number) goes only to the agent holding the task",
            )
        contact = await ContactRepository(uow.session).get(task.ticket_id)
    settings = callback_settings(runtime)
    shown = _contact(task, contact)
    called_at = contact.recorded_at if contact is not None else None
    called_day = (
        called_at.astimezone(ZoneInfo(settings.business_timezone)).date()
        if called_at is not None
        else task.finished_day  # intake's record not seen yet: the best day we know
    )
    return {
        "task_id": task.id,
        "ticket_type": task.ticket_type,
        "contact": shown.model_dump(),
        **callback_script(
            callback_script_rules(),
            ticket_type=task.ticket_type,
            called_day=called_day,
            customer_name=shown.customer_name,
            unit_name=settings.unit_name,
            unit_name_en=settings.unit_name_en,
            staff_no=agent.staff_no,
            result=task.result,
        ),
    }


@router.post("/{task_id}/outcome", response_model=CallbackTaskRead)
async def record_outcome(
    task_id: str,
    body: OutcomeCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    agent: Agent,
    policy: PolicyDep,
    idempotency_key: IdempotencyKey = None,
):
    """Record one call: an outcome, or "unreachable" (one attempt; after the last attempt the task
    ends unreachable). Unsatisfied needs the reason and asks the owning service to reopen."""
    request = {"task_id": task_id, **body.model_dump(mode="json")}
    async with (
        uow,
        IdempotentCommand(uow, "callback-tasks.outcome", idempotency_key, request) as once,
    ):
        if once.replayed:
            return once.response
        try:
            task = await bus.handle(
                commands.RecordOutcome(
                    task_id, agent.subject, body.outcome, body.reason, body.customer_words
                ),
                uow,
            )
        except (ReasonRequired, NotLeaseHolder, TaskClosed) as error:
            raise _domain_problem(error) from error
        if task is None:
            raise Problem(
                404, "not-found", "No such callback task", f"callback task {task_id} does not exist"
            )
        return await once.respond(200, to_read(task, policy).model_dump(mode="json"))


@incidents.get("/{incident_id}/callback-tasks", response_model=list[CallbackTaskRead])
async def incident_tasks(incident_id: str, uow: UnitOfWorkDep, staff: Desk, policy: PolicyDep):
    """Every callback task of one outage incident, together (one per linked ticket)."""
    async with uow:
        tasks = await TaskRepository(uow.session).of_incident(incident_id)
    return [to_read(t, policy) for t in tasks]


@incidents.post("/{incident_id}/restoration-notice", response_model=RestorationNoticeRead)
async def give_restoration_notice(
    incident_id: str,
    uow: UnitOfWorkDep,
    bus: BusDep,
    agent: Agent,
    policy: PolicyDep,
    idempotency_key: IdempotencyKey = None,
):
    """Mark the outage's customers as told that power is back (恢复送电告知), as one batch. This
    is no callback: it sets no outcome and no satisfaction; each customer's own callback task
    stays open and is called and recorded on its own."""
    request = {"incident_id": incident_id}
    async with (
        uow,
        IdempotentCommand(uow, "incidents.restoration-notice", idempotency_key, request) as once,
    ):
        if once.replayed:
            return once.response
        now = clock.now()
        noted = await bus.handle(commands.GiveRestorationNotice(incident_id, agent.subject), uow)
        if not noted and not await TaskRepository(uow.session).of_incident(incident_id):
            raise Problem(
                404,
                "not-found",
                "No callback tasks for this incident",
                f"incident {incident_id} has no callback task",
            )
        result = RestorationNoticeRead(
            incident_id=incident_id, noted=[to_read(t, policy, now) for t in noted]
        )
        return await once.respond(200, result.model_dump(mode="json"))


@rates.get("", response_model=list[CallbackRateRead])
async def callback_rates(
    uow: UnitOfWorkDep,
    supervisor: Supervisor,
    day_from: Annotated[BusinessDay | None, Query()] = None,
    day_to: Annotated[BusinessDay | None, Query()] = None,
    unit_id: str | None = None,
    ticket_type: str | None = None,
) -> list[CallbackRateRead]:
    """Callback rate (customers reached / tickets due a callback) and satisfaction rate
    ((satisfied + basically satisfied) / reached) per day, unit and ticket type. Tickets whose
    every attempt failed are `attempted_unreached`, never callbacks."""
    async with uow:
        found = await TaskRepository(uow.session).rates(
            day_from=day_from, day_to=day_to, unit_id=unit_id, ticket_type=ticket_type
        )
    return [
        CallbackRateRead(
            key=r.key,
            day=r.day,
            unit_id=r.unit_id,
            ticket_type=r.ticket_type,
            finished=r.finished,
            called_back=r.called_back,
            reached=r.reached,
            satisfied=r.satisfied,
            callback_rate=r.callback_rate,
            satisfaction_rate=r.satisfaction_rate,
            attempted_unreached=r.attempted_unreached,
        )
        for r in found
    ]


routers = [router, incidents, rates]
