"""The SLA monitor's use cases as plain functions over a deadline store.

The same functions serve the live service (Postgres store, events into the
outbox) and replay (memory store, events into a list): that sameness is what
makes a replay compare equal with the live run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from pathlib import Path

import structlog
import yaml

from brightline.contracts import EventPayload
from brightline.contracts.events.sla import (
    DeadlineBreachedV1,
    DeadlineCancelledV1,
    DeadlineMetV1,
    DeadlineOpenedV1,
    DeadlineWarnedV1,
)
from brightline.messaging import UnitOfWork
from brightline.sla_monitor.adapters.repository import DeadlineRepository
from brightline.sla_monitor.domain import commands
from brightline.sla_monitor.domain import events as domain_events
from brightline.sla_monitor.domain.deadlines import InvalidTransition
from brightline.sla_monitor.domain.monitor import (
    Cancel,
    Input,
    Meet,
    Open,
    Pause,
    Resume,
    Tracked,
    advance,
    apply,
    open_tracked,
)
from brightline.sla_monitor.domain.policy import PolicyBook, PolicyPack, load_pack, parse_pack

log = structlog.get_logger()

Emit = Callable[[EventPayload], object]


# ---------------------------------------------------------------- policy


def load_pack_file(path: str | Path) -> PolicyPack:
    """A pack from a file outside the package (a centre's own, or a drill pack with short limits)."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    parent = load_pack(raw["extends"]) if isinstance(raw, dict) and raw.get("extends") else None
    return parse_pack(raw, parent, origin=str(path))


@cache
def policy_book(pack_names: tuple[str, ...], pack_files: tuple[str, ...] = ()) -> PolicyBook:
    return PolicyBook(
        [*(load_pack(name) for name in pack_names), *(load_pack_file(p) for p in pack_files)]
    )


# ---------------------------------------------------------------- domain events -> integration events


def integration_event(tracked: Tracked, event: domain_events.DeadlineEvent) -> EventPayload | None:
    fact = dict(
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
    return None  # paused / resumed: no contract event; the deadline row shows it


def _emit_all(tracked: Tracked, fired: Iterable[domain_events.DeadlineEvent], emit: Emit) -> None:
    for event in fired:
        payload = integration_event(tracked, event)
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
        if tracked.error:
            log.error(
                "deadline errored: calendar out of range",
                deadline_id=tracked.deadline_id,
                limit_key=command.limit_key,
                subject_id=command.subject_id,
                error=tracked.error,
            )
        _emit_all(tracked, fired, emit)
        return [tracked]
    changed = []
    for tracked in await store.of_subject(command.subject_type, command.subject_id):
        if not tracked.matches(command.limit_keys):
            continue
        if tracked.is_final:
            # Never silently: an input about a deadline we know but that is settled or errored
            # (a due time the calendar could not count) is logged with what it was about.
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
        _emit_all(tracked, fired, emit)
        changed.append(tracked)
    return changed


async def tick(now: datetime, store, emit: Emit, *, batch: int = 200) -> int:
    """Fire warnings, breaches and escalations due by `now`. Returns how many deadlines moved."""
    advanced = []
    for tracked in await store.due(now, limit=batch):
        tracked, fired = advance(tracked, now)
        advanced.append(tracked)
        _emit_all(tracked, fired, emit)
    # One statement for the round's state changes, in the same transaction as the outbox rows.
    await store.save_many(advanced)
    return len(advanced)


# ---------------------------------------------------------------- the skeleton's entry point, kept


async def open_deadline_for(
    command: commands.OpenDeadline, uow: UnitOfWork, *, book: PolicyBook
) -> None:
    await handle(
        Open(
            limit_key=command.limit_key,
            subject_type=command.subject_type,
            subject_id=command.subject_id,
            ticket_id=command.ticket_id,
            at=command.opened_at,
        ),
        DeadlineRepository(uow.session),
        uow.emit,
        book=book,
    )


HANDLERS = {
    commands.OpenDeadline: open_deadline_for,
    Open: handle,
    Meet: handle,
    Cancel: handle,
    Pause: handle,
    Resume: handle,
}
