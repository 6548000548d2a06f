"""The SLA monitor's use cases as plain functions over a deadline store.

The same functions serve the live service (Postgres store, events into the
outbox) and replay (memory store, events into a list): that sameness is what
makes a replay compare equal with the live run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import structlog

from brightline.contracts import Event, EventPayload
from brightline.contracts.events.sla import (
    DeadlineBreachedV1,
    DeadlineBreachRetractedV1,
    DeadlineCancelledV1,
    DeadlineMetV1,
    DeadlineOpenedV1,
    DeadlinePausedV1,
    DeadlineRescheduledV1,
    DeadlineResumedV1,
    DeadlineWarnedV1,
)
from brightline.messaging import Handler, MessageBus, UnitOfWork
from brightline.sla_monitor.adapters.repository import DeadlineRepository, HistoryRepository
from brightline.sla_monitor.domain import commands
from brightline.sla_monitor.domain import events as domain_events
from brightline.sla_monitor.domain.deadlines import InvalidTransition
from brightline.sla_monitor.domain.monitor import (
    Input,
    Open,
    Pause,
    Resume,
    Tracked,
    advance,
    apply,
    deadline_id_for,
    note_late,
    open_tracked,
    recompute,
    tells_nothing_new,
)
from brightline.sla_monitor.domain.policy import PolicyBook, adopted_book, load_pack_file  # noqa: F401
from brightline.sla_monitor.settings import SlaMonitorSettings
from brightline.sla_monitor.translate import BY_THE_BOOK, KPI_FACTS, inputs_for

log = structlog.get_logger()

Emit = Callable[[EventPayload], object]
Notify = Callable[[datetime | None], None]


# ---------------------------------------------------------------- policy


def policy_book(pack_names: tuple[str, ...], pack_files: tuple[str, ...] = ()) -> PolicyBook:
    """The book in force, through the shared library (pack files reread when they change)."""
    return adopted_book(pack_names, pack_files)


# ---------------------------------------------------------------- domain events -> integration events


def integration_event(
    tracked: Tracked, event: domain_events.DeadlineEvent, actor: str | None = None
) -> EventPayload | None:
    assert tracked.deadline is not None, "only a tracked deadline records events"
    # Any: the common fields are splatted into each payload, which checks them itself.
    fact: dict[str, Any] = dict(
        deadline_id=tracked.deadline_id,
        limit_key=tracked.limit.key,
        policy_pack=tracked.policy,
        subject_type=tracked.subject_type,
        subject_id=tracked.subject_id,
        ticket_id=tracked.ticket_id,
    )
    due = tracked.deadline.due_at
    match event:
        case domain_events.DeadlineOpened():
            return DeadlineOpenedV1(
                **fact,
                opened_at=event.occurred_at,
                warn_at=event.warn_at,
                due_at=event.due_at,
                amount=tracked.limit.amount,
                unit=str(tracked.limit.unit.value),
                provisional=event.provisional,
            )
        case domain_events.DeadlineWarned():
            return DeadlineWarnedV1(
                **fact, due_at=event.due_at, warned_at=event.occurred_at, notify=list(event.notify)
            )
        case domain_events.DeadlineBreached():
            return DeadlineBreachedV1(
                **fact,
                due_at=event.due_at,
                breached_at=event.occurred_at,
                level="breach",
                notify=list(event.notify),
            )
        case domain_events.DeadlineEscalated():
            return DeadlineBreachedV1(
                **fact,
                due_at=due,
                breached_at=event.occurred_at,
                level=event.level,
                notify=list(event.notify),
            )
        case domain_events.DeadlineMet():
            return DeadlineMetV1(
                **fact, due_at=event.due_at, met_at=event.occurred_at, on_time=event.on_time
            )
        case domain_events.DeadlineCancelled():
            return DeadlineCancelledV1(
                **fact, due_at=due, cancelled_at=event.occurred_at, reason=event.reason
            )
        case domain_events.DeadlineBreachRetracted():
            return DeadlineBreachRetractedV1(
                **fact,
                due_at=event.due_at,
                breached_at=event.breached_at,
                retracted_at=event.occurred_at,
                met_at=event.occurred_at,
                escalations=list(event.escalations),
            )
        case domain_events.DeadlinePaused():
            return DeadlinePausedV1(
                **fact,
                due_at=due,
                paused_at=event.occurred_at,
                reason=event.reason,
                paused_by=actor,
            )
        case domain_events.DeadlineResumed():
            return DeadlineResumedV1(
                **fact,
                due_at=event.due_at,
                warn_at=event.warn_at,
                resumed_at=event.occurred_at,
                paused_seconds=event.paused_for.total_seconds(),
                resumed_by=actor,
            )
        case domain_events.DeadlineRescheduled():
            return DeadlineRescheduledV1(
                **fact,
                due_at=event.due_at,
                warn_at=event.warn_at,
                rescheduled_at=event.occurred_at,
                provisional=event.provisional,
                reason=event.reason,
            )
    return None


def publish(
    tracked: Tracked,
    fired: Iterable[domain_events.DeadlineEvent],
    emit: Emit,
    actor: str | None = None,
) -> None:
    for event in fired:
        payload = integration_event(tracked, event, actor)
        if payload is not None:
            emit(payload)


# ---------------------------------------------------------------- use cases over any store


async def handle(
    command: Input, store, emit: Emit, *, book: PolicyBook, strict: bool = False
) -> list[Tracked]:
    """Apply one input. `strict` (API calls) raises InvalidTransition; consumers log and go on."""
    if isinstance(command, Open):
        try:
            tracked, fired = open_tracked(command, book)
        except KeyError as error:
            if strict:
                raise
            log.error(
                "no such limit in the pack in force", limit_key=command.limit_key, error=str(error)
            )
            return []
        if not await store.add(tracked):
            return []  # one deadline per subject and limit, however often the cause is replayed
        if tracked.provisional and tracked.deadline is not None:
            log.error(
                "deadline provisional: its count runs into a year the calendar does not know",
                deadline_id=tracked.deadline_id,
                limit_key=command.limit_key,
                due_at=tracked.deadline.due_at.isoformat(),
            )
        publish(tracked, fired, emit)
        return [tracked]
    changed = []
    for tracked in await store.of_subject(command.subject_type, command.subject_id):
        if not tracked.matches(command.limit_keys):
            continue
        if tracked.is_final:
            if tells_nothing_new(tracked, command):
                continue
            # Never silently: an input about a deadline we know but that is settled or errored
            # (a due time the calendar could not count) is kept on the deadline (its read API,
            # and so the audit trail), counted, and logged with what it was about.
            tracked = note_late(tracked, command)
            await store.note_late(tracked)
            log.warning(
                "deadline input about a settled or errored deadline",
                deadline_id=tracked.deadline_id,
                limit_key=tracked.limit.key,
                state=tracked.state,
                input=type(command).__name__,
                at=command.at.isoformat(),
                error=tracked.error,
            )
            continue
        if isinstance(command, (Pause, Resume)) and command.limit_keys is None:
            # a case-wide pause touches only clocks that may stop; a resume only clocks that stopped
            if not tracked.limit.pausable or (
                isinstance(command, Resume) and tracked.state != "paused"
            ):
                continue
        try:
            tracked, fired = apply(tracked, command)
        except InvalidTransition as error:
            if strict:
                raise
            log.warning(
                "deadline input ignored", deadline_id=tracked.deadline_id, reason=str(error)
            )
            # the clock still advanced to the input's time, as in replay
            tracked, fired = advance(tracked, command.at)
        await store.save(tracked)
        publish(tracked, fired, emit, getattr(command, "actor", None))
        changed.append(tracked)
    return changed


async def recompute_provisional(now: datetime, store, emit: Emit) -> list[Tracked]:
    """Count every running provisional deadline again on the calendar as it now is (after a new
    year's holiday notice was entered). Returns the deadlines whose due time moved."""
    moved = []
    for tracked in await store.provisional():
        tracked, fired = recompute(tracked, now)
        if fired:
            await store.save(tracked)
            publish(tracked, fired, emit)
            moved.append(tracked)
    return moved


async def tick(now: datetime, store, emit: Emit, *, batch: int = 200) -> int:
    """Fire warnings, breaches and escalations due by `now`. Returns how many deadlines moved."""
    advanced = []
    for tracked in await store.due(now, limit=batch):
        tracked, fired = advance(tracked, now)
        advanced.append(tracked)
        publish(tracked, fired, emit)
    # One statement for the round's state changes, in the same transaction as the outbox rows.
    await store.save_many(advanced)
    return len(advanced)


# ---------------------------------------------------------------- the bus's handlers


async def record_kpi_facts(event: Event, history: HistoryRepository) -> None:
    # The types matched here are translate.KPI_FACTS (the consumer takes them all; the handler
    # calls this for them alone: reading the payload of any other event costs a validation).
    p = event.payload()
    match event.type:
        case "brightline.intake.call.ringing.v1" | "brightline.intake.call.ringing.v2":
            await history.record_call(p.call_id, queue=p.queue, rang_at=p.rang_at)
        case "brightline.intake.call.answered.v1":
            await history.record_call(
                p.call_id,
                queue=p.queue,
                rang_at=p.rang_at,
                answered_at=p.answered_at,
                answer_delay_seconds=_delay(p),
            )
        case "brightline.intake.call.ended.v1":
            await history.record_call(
                p.call_id,
                queue=p.queue,
                rang_at=p.rang_at,
                answered_at=p.answered_at,
                ended_at=p.ended_at,
                cause=p.cause,
                answer_delay_seconds=_delay(p),
            )
        case "brightline.callback.rate.computed.v1":
            await history.record_callback_rate(
                key=p.key,
                day=p.day,
                unit_id=p.unit_id,
                ticket_type=p.ticket_type,
                finished=p.finished,
                called_back=p.called_back,
                attempted_unreached=p.attempted_unreached,
                computed_at=p.computed_at,
            )
        case "brightline.dispatch.planned-outage.registered.v1":
            # Dispatch checked the notice rule at registration; a late one is a breach to count.
            await history.record_planned_notice(
                p.planned_outage_id,
                unit_id=p.unit_id,
                registered_at=p.registered_at,
                starts_at=p.starts_at,
                announced_at=p.announced_at,
                notice_required_days=p.notice_required_days,
                notice_given_hours=p.notice_given_hours,
                notice_late=p.notice_late,
                important_customers=len(p.important_customer_ids),
            )


def _delay(p) -> float | None:
    if p.answer_delay_seconds is not None:
        return p.answer_delay_seconds
    if p.rang_at is not None and p.answered_at is not None:
        return (p.answered_at - p.rang_at).total_seconds()
    return None


async def observe_event(
    command: commands.ObserveEvent, uow: UnitOfWork, *, book: PolicyBook, notify: Notify
) -> None:
    event = command.event
    history = HistoryRepository(uow.session)
    history.log_at_commit(uow, event)
    if event.type in KPI_FACTS:
        await record_kpi_facts(event, history)
    store = DeadlineRepository(uow.session)
    translated: dict[str, list[Input]] = uow.session.info.get(INPUTS_AHEAD, {})
    inputs = translated.pop(event.id) if event.id in translated else inputs_for(event, book)
    if any(isinstance(i, Open) for i in inputs):
        await _read_ahead(uow, store, book, inputs)
    for deadline_input in inputs:
        for tracked in await handle(deadline_input, store, uow.emit, book=book):
            notify(tracked.next_fire_at)  # wakes the scheduler if due before its next round


# The inputs of a consumer batch's later events, translated by the read ahead (session.info:
# one per unit of work): each event's turn takes its own rather than validating its payload again.
INPUTS_AHEAD = "sla_inputs_ahead"


async def _read_ahead(
    uow: UnitOfWork, store: DeadlineRepository, book: PolicyBook, inputs: list[Input]
) -> None:
    """Whether the deadlines this event (its `inputs`) and the batch's later ones open exist, in
    one read for them all (a repair's arrival clock read and inserted alone was a round trip
    each); a unit of work of one event inserts its own at once, as cheaply."""
    if store.read_ahead_done or uow.causation is None or uow.causation not in uow.batch:
        return  # read from an earlier event of the batch on, or a unit of work of one event
    later = uow.batch[uow.batch.index(uow.causation) + 1 :]
    if not later:
        return
    translated = uow.session.info[INPUTS_AHEAD] = {}
    opening = [i for i in inputs if isinstance(i, Open)]
    for event in later:
        try:
            event_inputs = inputs_for(event, book)
        except Exception:  # noqa: BLE001 - e.g. a payload off its contract: its own turn fails
            continue  # on it (retries, the dead-letter topic), blamed on it, not on this one
        if event.type not in BY_THE_BOOK:  # those read the pack in force at their own turn
            translated[event.id] = event_inputs
        opening += [i for i in event_inputs if isinstance(i, Open)]
    await store.read_ahead(
        uow, {deadline_id_for(i.subject_type, i.subject_id, i.limit_key, i.round) for i in opening}
    )


async def apply_supervisor_act(
    command: commands.ApplySupervisorAct, uow: UnitOfWork, *, book: PolicyBook
) -> list[Tracked]:
    """Logged as an event (replay sees it) and applied strictly. The route tells the scheduler
    of the changed fire times once committed."""
    await HistoryRepository(uow.session).log(command.event)
    store = DeadlineRepository(uow.session)
    changed = []
    for deadline_input in inputs_for(command.event, book):
        changed += await handle(deadline_input, store, uow.emit, book=book, strict=True)
    return changed


HANDLERS: dict[type, Handler] = {
    commands.ObserveEvent: observe_event,
    commands.ApplySupervisorAct: apply_supervisor_act,
}


def message_bus(settings: SlaMonitorSettings, notify: Notify) -> MessageBus:
    """`notify`: told the next fire time of every deadline an event opens or changes."""
    packs, pack_files = tuple(settings.policy_packs), tuple(settings.policy_pack_files)
    # Read per message: a pack adopted meanwhile applies to what opens from then on.
    return MessageBus(HANDLERS, book=lambda: policy_book(packs, pack_files), notify=lambda: notify)
