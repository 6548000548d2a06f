"""Callback's use cases as plain functions over a unit of work. Entry points commit; these never do."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from brightline.callback.adapters.orm import contacts
from brightline.callback.adapters.repository import (
    CONTACTS_SEEN,
    ContactFold,
    ContactRepository,
    TaskRepository,
    contact_row,
    lock_rate,
    riding_contacts,
)
from brightline.callback.adapters.rule_files import callback_script_rules
from brightline.callback.domain import commands, events
from brightline.callback.domain.model import CallbackPolicy, CallbackTask
from brightline.callback.domain.scripts import CallbackScriptRules, repair_result
from brightline.callback.settings import CallbackSettings
from brightline.contracts.events.callback import (
    CallbackOutcomeRecordedV1,
    CallbackRateComputedV1,
    CallbackTaskCreatedV1,
    ReopenRequestedV1,
    RestorationNoticeGivenV1,
)
from brightline.messaging import Handler, MessageBus, UnitOfWork
from brightline.messaging.audit import note_insert
from brightline.platform import clock

log = structlog.get_logger()

# Tickets whose finishing event names no unit still count somewhere a supervisor can see.
UNASSIGNED_UNIT = "unassigned"


async def remember_contact(
    command: commands.RememberContact, uow: UnitOfWork, *, now: datetime
) -> None:
    row = contact_row(
        ticket_id=command.ticket_id,
        ticket_type=command.ticket_type,
        phone=command.phone,
        caller_name=command.caller_name,
        area_code=command.area_code,
        anonymous=command.anonymous,
        recorded_at=command.recorded_at,
    )
    uow.gathered_to_ride(CONTACTS_SEEN, ContactFold, riding_contacts).seen(row)
    note_insert(uow.session, contacts.name, [row])
    if command.anonymous or not command.phone:
        # The task may have been opened before the contact arrived (topics are not ordered
        # with each other): an anonymous reporter is never called, nor a caller with no phone
        # (unless a completion gave one: the stored contact says).
        contact = await ContactRepository(uow.session).get(command.ticket_id)
        if contact.anonymous or not contact.phone:
            tasks = TaskRepository(uow.session)
            for task in await tasks.open_for_ticket(command.ticket_id):
                task.mark_not_callable(now)
                await _save(task, tasks, uow)


async def open_callback_task(
    command: commands.OpenCallbackTask,
    uow: UnitOfWork,
    *,
    policy: CallbackPolicy,
    tz: ZoneInfo,
    now: datetime,
    script_rules: CallbackScriptRules,
) -> CallbackTask | None:
    contacts = ContactRepository(uow.session)
    tasks = TaskRepository(uow.session)
    if await tasks.open_for_ticket(command.ticket_id):
        return None  # one pending callback per ticket; a new one opens only after it ends (e.g. reopened)
    if command.phone:
        await contacts.learn_phone(command.ticket_id, command.phone)
    task = CallbackTask.create(
        id=str(uuid.uuid4()),
        ticket_id=command.ticket_id,
        ticket_type=command.ticket_type,
        origin=command.origin,
        unit_id=command.unit_id or UNASSIGNED_UNIT,
        finished_at=command.finished_at,
        finished_day=command.finished_at.astimezone(tz).date(),
        policy=policy,
        incident_id=command.incident_id,
        result=command.result
        or (
            repair_result(script_rules, command.resolution, command.cause)
            if command.resolution
            else None
        ),
    )
    contact = await contacts.get(command.ticket_id)
    if contact is not None and (contact.anonymous or not contact.phone):
        task.mark_not_callable(now)
    if not await tasks.add(task, finish_ref=command.finish_ref):
        return None  # this finish already opened its task
    log.info("callback task opened", task_id=task.id, ticket_id=task.ticket_id, origin=task.origin)
    await publish(task, tasks, uow)
    return task


async def take_next_task(
    command: commands.TakeNextTask, uow: UnitOfWork, *, policy: CallbackPolicy, now: datetime
) -> CallbackTask | None:
    """The agent's held task if any, else the oldest-due free task, leased to the agent."""
    tasks = TaskRepository(uow.session)
    task = await tasks.held_by(command.agent_id, now) or await tasks.claim_next(now)
    if task is None:
        return None
    task.lease_to(command.agent_id, now, policy)
    await tasks.save(task)
    return task


async def record_outcome(
    command: commands.RecordOutcome, uow: UnitOfWork, *, policy: CallbackPolicy, now: datetime
) -> CallbackTask | None:
    tasks = TaskRepository(uow.session)
    task = await tasks.get(command.task_id, for_update=True)
    if task is None:
        return None
    task.record(
        command.outcome,
        agent_id=command.agent_id,
        now=now,
        policy=policy,
        reason=command.reason,
        customer_words=command.customer_words,
    )
    await _save(task, tasks, uow)
    return task


async def give_restoration_notice(
    command: commands.GiveRestorationNotice, uow: UnitOfWork, *, now: datetime
) -> list[CallbackTask]:
    """One call for an outage tells its customers power is back. It is no callback: every
    customer's own task stays open, with no outcome and no satisfaction written onto it."""
    tasks = TaskRepository(uow.session)
    noted = []
    for task in await tasks.of_incident(command.incident_id, wait=True):
        if task.callable and task.note_restoration_notice(command.agent_id, now):
            await tasks.save(task)
            noted.append(task)
    if noted:
        uow.emit(
            RestorationNoticeGivenV1(
                incident_id=command.incident_id,
                task_ids=[t.id for t in noted],
                agent_id=command.agent_id,
                given_at=now,
            )
        )
    return noted


async def _save(task: CallbackTask, tasks: TaskRepository, uow: UnitOfWork) -> None:
    await tasks.save(task)
    await publish(task, tasks, uow)


async def publish(task: CallbackTask, tasks: TaskRepository, uow: UnitOfWork) -> None:
    rate_changed = False
    for event in task.events:
        if isinstance(event, events.TaskCreated):
            uow.emit(
                CallbackTaskCreatedV1(
                    task_id=task.id,
                    ticket_id=task.ticket_id,
                    ticket_type=task.ticket_type,
                    origin=task.origin,
                    created_at=task.finished_at,
                    due_at=task.due_at,
                    unit_id=task.unit_id,
                    incident_id=task.incident_id,
                )
            )
            rate_changed = rate_changed or task.callable
        elif isinstance(event, events.AttemptMade):
            await tasks.add_attempt(
                task,
                outcome=event.outcome,
                agent_id=event.agent_id,
                at=event.at,
                reason=event.reason,
                customer_words=event.customer_words,
            )
        elif isinstance(event, events.TaskClosed):
            uow.emit(
                CallbackOutcomeRecordedV1(
                    task_id=task.id,
                    ticket_id=task.ticket_id,
                    ticket_type=task.ticket_type,
                    origin=task.origin,
                    outcome=event.outcome,
                    attempts=task.attempts,
                    recorded_at=event.at,
                    agent_id=task.agent_id,
                    reason=task.reason,
                    unit_id=task.unit_id,
                )
            )
            rate_changed = True
        elif isinstance(event, events.ReopenRequested):
            uow.emit(
                ReopenRequestedV1(
                    ticket_id=task.ticket_id,
                    task_id=task.id,
                    origin=task.origin,
                    reason=task.reason or "",
                    customer_words=task.customer_words,
                    requested_at=event.at,
                )
            )
    task.events.clear()
    if rate_changed:
        await publish_rate(task, tasks, uow)


async def publish_rate(task: CallbackTask, tasks: TaskRepository, uow: UnitOfWork) -> None:
    """The day/unit/type this task counts in, recomputed from all its tasks; keyed so the SLA
    monitor keeps the latest per key (publishing twice is harmless)."""
    key = f"{task.finished_day.isoformat()}|{task.unit_id}|{task.ticket_type}"
    await lock_rate(tasks.session, key)
    rate = await tasks.rate_of(task.finished_day, task.unit_id, task.ticket_type)
    uow.emit(
        CallbackRateComputedV1(
            key=rate.key,
            day=rate.day,
            unit_id=rate.unit_id,
            ticket_type=rate.ticket_type,
            finished=rate.finished,
            called_back=rate.called_back,
            reached=rate.reached,
            satisfied=rate.satisfied,
            callback_rate=rate.callback_rate,
            satisfaction_rate=rate.satisfaction_rate,
            computed_at=clock.now(),
            attempted_unreached=rate.attempted_unreached,
        )
    )


HANDLERS: dict[type, Handler] = {
    commands.RememberContact: remember_contact,
    commands.OpenCallbackTask: open_callback_task,
    commands.TakeNextTask: take_next_task,
    commands.RecordOutcome: record_outcome,
    commands.GiveRestorationNotice: give_restoration_notice,
}


def message_bus(settings: CallbackSettings) -> MessageBus:
    return MessageBus(
        HANDLERS,
        policy=settings.policy,
        tz=lambda: ZoneInfo(settings.business_timezone),
        script_rules=callback_script_rules,
    )
