"""Deadline arithmetic and the Deadline value object. Pure: no clock, no I/O.

Counting rules, one per unit (all in the business timezone, default Asia/Shanghai):

- seconds / minutes / hours: a fixed span of real time after the start.
- calendar_days: the same clock time n days later ("5天内" read as 5 x 24 h
  of calendar, holidays included; the seed does not say working days).
- working_days: the same clock time on the n-th working day after the start
  date, by China's official calendar with 调休 (brightline.calendar). The day
  of receipt never counts; a ticket opened on a holiday counts from the next
  working day.

Warning point: opened_at + warn_at x (due - opened_at), the fraction taken
over the real elapsed span. For a working-day limit that spans a holiday the
warning therefore also falls later, in proportion, rather than on "80 % of the
working days", which would need business hours we do not have.

Pauses (only for limits marked `pausable`, e.g. waiting for the customer):
every closed pause that begins before the running due time pushes it back by
the pause's wall-clock length. For working-day limits this is a deliberate
simplification: we shift by elapsed wall-clock time, not by the working time
lost, so a pause over a weekend gives the handler the weekend back too. The
warning point moves the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any, Protocol

from brightline.calendar import (
    add_working_days,
    add_working_days_provisional,
    business_tz,
    require_aware,
)

from .events import (
    DeadlineBreached,
    DeadlineBreachRetracted,
    DeadlineCancelled,
    DeadlineEscalated,
    DeadlineEvent,
    DeadlineMet,
    DeadlineOpened,
    DeadlinePaused,
    DeadlineResumed,
    DeadlineWarned,
)
from .policy import EscalationLevel, Limit, Unit


class WorkingCalendar(Protocol):
    """What deadline arithmetic needs from a calendar (lets tests pass a fake)."""

    @property
    def tz(self) -> tzinfo: ...

    def add_working_days(self, start: datetime, n: int) -> datetime: ...


@dataclass(frozen=True)
class OfficialCalendar:
    """China's official working-day calendar in the given business timezone."""

    tz: tzinfo = field(default_factory=business_tz)

    def add_working_days(self, start: datetime, n: int) -> datetime:
        return add_working_days(start, n, self.tz)


OFFICIAL_CALENDAR = OfficialCalendar()


@dataclass(frozen=True)
class ProvisionalCalendar:
    """The official calendar where it is known; Monday to Friday for a year it is not.

    Used only after the official one refused: the deadline is opened all the same, marked
    provisional, and recomputed with the official calendar once the year's notice is entered."""

    tz: tzinfo = field(default_factory=business_tz)

    def add_working_days(self, start: datetime, n: int) -> datetime:
        return add_working_days_provisional(start, n, self.tz).at


PROVISIONAL_CALENDAR = ProvisionalCalendar()


class InvalidTransition(ValueError):
    """The transition is not allowed from the deadline's current state."""


@dataclass(frozen=True)
class Pause:
    """A stretch during which the clock stood still; ended_at None = still paused."""

    started_at: datetime
    ended_at: datetime | None = None

    @property
    def duration(self) -> timedelta:
        if self.ended_at is None:
            raise ValueError("an open pause has no duration yet")
        return self.ended_at - self.started_at


# ---------------------------------------------------------------- arithmetic


def _unpaused_due(limit: Limit, opened_at: datetime, calendar: WorkingCalendar) -> datetime:
    local = require_aware(opened_at, "opened_at").astimezone(calendar.tz)
    span = limit.fixed_span()
    if span is not None:
        return local + span
    if limit.unit is Unit.CALENDAR_DAYS:
        # Aware + timedelta on the same tzinfo is wall-clock arithmetic:
        # the same clock time n days later, even across a DST change.
        return local + timedelta(days=limit.amount)
    if limit.unit is Unit.WORKING_DAYS:
        return calendar.add_working_days(local, limit.amount).astimezone(calendar.tz)
    raise AssertionError(f"unhandled unit {limit.unit}")  # Unit is a closed enum


def _checked_pauses(limit: Limit, opened_at: datetime, pauses: Iterable[Pause]) -> list[Pause]:
    ordered = sorted(pauses, key=lambda p: p.started_at)
    if ordered and not limit.pausable:
        raise ValueError(f"limit {limit.key} is not pausable")
    previous_end = opened_at
    for pause in ordered:
        require_aware(pause.started_at, "pause start")
        if pause.ended_at is None:
            raise ValueError(
                f"limit {limit.key}: still paused since {pause.started_at.isoformat()}; "
                "the due time is not known until the clock resumes"
            )
        require_aware(pause.ended_at, "pause end")
        if pause.started_at < previous_end:
            raise ValueError("pauses must start after opening and must not overlap")
        if pause.ended_at <= pause.started_at:
            raise ValueError("a pause must end after it starts")
        previous_end = pause.ended_at
    return ordered


def _shift_through(point: datetime, pauses: Sequence[Pause]) -> datetime:
    # Pauses are sorted and disjoint: each one that starts before the running
    # point stopped the clock before the point was reached, so it pushes the
    # point back by its length (which may bring later pauses into range).
    for pause in pauses:
        if pause.started_at < point:
            point += pause.duration
    return point


def due_at(
    limit: Limit,
    opened_at: datetime,
    calendar: WorkingCalendar = OFFICIAL_CALENDAR,
    pauses: Iterable[Pause] = (),
) -> datetime:
    """When the limit expires, in the calendar's timezone."""
    checked = _checked_pauses(limit, opened_at, pauses)
    return _shift_through(_unpaused_due(limit, opened_at, calendar), checked)


def warn_at(
    limit: Limit,
    opened_at: datetime,
    calendar: WorkingCalendar = OFFICIAL_CALENDAR,
    pauses: Iterable[Pause] = (),
) -> datetime:
    """When to warn: limit.warn_at of the real span from opening to the due time."""
    # Check first: astimezone() on a naive datetime would silently assume host time.
    local = require_aware(opened_at, "opened_at").astimezone(calendar.tz)
    checked = _checked_pauses(limit, opened_at, pauses)
    span = _unpaused_due(limit, opened_at, calendar) - local
    return _shift_through(local + span * limit.warn_at, checked)


# ---------------------------------------------------------------- the Deadline


class DeadlineState(StrEnum):
    OPEN = "open"
    WARNED = "warned"
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"
    PAUSED = "paused"

    @property
    def is_final(self) -> bool:
        return self in (DeadlineState.MET, DeadlineState.CANCELLED)


Transition = tuple["Deadline", tuple[DeadlineEvent, ...]]


@dataclass(frozen=True)
class Deadline:
    """One running time limit of one ticket. Immutable: transitions return a new one.

    `policy` records the pack (name@version) the limit came from, so a later
    change of rules never rewrites a promise already made.
    """

    deadline_id: str
    ticket_id: str
    limit: Limit
    policy: str
    opened_at: datetime
    due_at: datetime
    warn_at: datetime
    state: DeadlineState = DeadlineState.OPEN
    pauses: tuple[Pause, ...] = ()  # closed pauses only
    paused_since: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    closed_at: datetime | None = None  # met or cancelled
    # A breach fired on the monitor's clock, then an input stamped at or before the due time
    # proved the work was done in time (the input was late, not the work): the breach is retracted.
    breach_retracted_at: datetime | None = None
    escalations_sent: tuple[str, ...] = ()  # `at` of breach+<delay> levels already fired

    def _base(self, at: datetime) -> dict[str, Any]:
        return {
            "deadline_id": self.deadline_id,
            "ticket_id": self.ticket_id,
            "limit_key": self.limit.key,
            "occurred_at": at,
        }

    def _at(self, at: datetime) -> datetime:
        require_aware(at, "transition time")
        if at < self.opened_at:
            raise ValueError(f"{at.isoformat()} is before the deadline opened")
        return at.astimezone(self.due_at.tzinfo)


def open_deadline(
    *,
    deadline_id: str,
    ticket_id: str,
    limit: Limit,
    policy: str,
    opened_at: datetime,
    calendar: WorkingCalendar = OFFICIAL_CALENDAR,
) -> Transition:
    opened_at = require_aware(opened_at, "opened_at").astimezone(calendar.tz)
    deadline = Deadline(
        deadline_id=deadline_id,
        ticket_id=ticket_id,
        limit=limit,
        policy=policy,
        opened_at=opened_at,
        due_at=due_at(limit, opened_at, calendar),
        warn_at=warn_at(limit, opened_at, calendar),
    )
    return deadline, (
        DeadlineOpened(
            **deadline._base(opened_at),
            policy=policy,
            due_at=deadline.due_at,
            warn_at=deadline.warn_at,
        ),
    )


def check(deadline: Deadline, now: datetime) -> Transition:
    """Advance the clock to `now`: warn, breach and escalate as due.

    Idempotent: checking twice at the same time produces events once. A
    paused or closed deadline produces nothing. If the warning point and the
    due time have both passed since the last check, only the breach is
    reported: a warning after the fact would tell nobody anything.
    """
    now = deadline._at(now)
    if deadline.state.is_final or deadline.state is DeadlineState.PAUSED:
        return deadline, ()
    events: list[DeadlineEvent] = []
    limit = deadline.limit
    if deadline.state in (DeadlineState.OPEN, DeadlineState.WARNED) and now >= deadline.due_at:
        deadline = replace(deadline, state=DeadlineState.BREACHED, breached_at=now)
        events.append(
            DeadlineBreached(
                **deadline._base(now),
                due_at=deadline.due_at,
                notify=_roles(limit.levels("breach"), delayed=False),
            )
        )
    elif deadline.state is DeadlineState.OPEN and now >= deadline.warn_at:
        deadline = replace(deadline, state=DeadlineState.WARNED, warned_at=now)
        events.append(
            DeadlineWarned(
                **deadline._base(now),
                due_at=deadline.due_at,
                notify=_roles(limit.levels("warning"), delayed=False),
            )
        )
    if deadline.state is DeadlineState.BREACHED:
        for level in limit.levels("breach"):
            due_now = level.delay and now >= deadline.due_at + level.delay
            if due_now and level.at not in deadline.escalations_sent:
                deadline = replace(
                    deadline, escalations_sent=(*deadline.escalations_sent, level.at)
                )
                events.append(
                    DeadlineEscalated(**deadline._base(now), level=level.at, notify=level.notify)
                )
    return deadline, tuple(events)


def _roles(levels: Iterable[EscalationLevel], *, delayed: bool) -> tuple[str, ...]:
    roles: list[str] = []
    for level in levels:
        if bool(level.delay) == delayed:
            roles.extend(r for r in level.notify if r not in roles)
    return tuple(roles)


def meet(deadline: Deadline, at: datetime, calendar: WorkingCalendar | None = None) -> Transition:
    """The obligation was fulfilled at `at` (on time or late)."""
    at = deadline._at(at)
    if deadline.state.is_final:
        raise InvalidTransition(f"deadline {deadline.deadline_id} is already {deadline.state}")
    if deadline.state is DeadlineState.PAUSED:
        # Fulfilled while paused: the pause ends now; the clock did not run during it.
        deadline = _close_pause(deadline, at, calendar)
    on_time = at <= deadline.due_at
    breached_at = deadline.breached_at if deadline.state is DeadlineState.BREACHED else None
    retract = on_time and breached_at is not None
    deadline = replace(deadline, state=DeadlineState.MET, closed_at=at, paused_since=None)
    met = DeadlineMet(
        **deadline._base(at),
        due_at=deadline.due_at,
        on_time=on_time,
        late_by=timedelta() if on_time else at - deadline.due_at,
    )
    if not retract or breached_at is None:
        return deadline, (met,)
    # The breach (and any escalation after it) was decided before this input reached us; the
    # input's own time shows the work was done in time, so the breach is taken back, in an event.
    deadline = replace(deadline, breach_retracted_at=at)
    return deadline, (
        met,
        DeadlineBreachRetracted(
            **deadline._base(at),
            due_at=deadline.due_at,
            breached_at=breached_at,
            escalations=deadline.escalations_sent,
        ),
    )


def cancel(deadline: Deadline, at: datetime, reason: str) -> Transition:
    """The obligation went away (ticket withdrawn, merged, reclassified)."""
    at = deadline._at(at)
    if deadline.state.is_final:
        raise InvalidTransition(f"deadline {deadline.deadline_id} is already {deadline.state}")
    deadline = replace(deadline, state=DeadlineState.CANCELLED, closed_at=at)
    return deadline, (DeadlineCancelled(**deadline._base(at), reason=reason),)


def pause(deadline: Deadline, at: datetime, reason: str) -> Transition:
    """Stop the clock, e.g. while waiting for the customer.

    Only for pausable limits, and only before the due time: once a limit is
    breached, stopping its clock would hide the breach. Call check() first so
    a deadline already past due is marked breached.
    """
    at = deadline._at(at)
    if not deadline.limit.pausable:
        raise InvalidTransition(f"limit {deadline.limit.key} is not pausable")
    if deadline.state not in (DeadlineState.OPEN, DeadlineState.WARNED):
        raise InvalidTransition(f"cannot pause a {deadline.state} deadline")
    if at >= deadline.due_at:
        raise InvalidTransition(
            f"deadline {deadline.deadline_id} was due at {deadline.due_at.isoformat()}; "
            "a breached limit cannot be paused"
        )
    deadline = replace(deadline, state=DeadlineState.PAUSED, paused_since=at)
    return deadline, (DeadlinePaused(**deadline._base(at), reason=reason),)


def _close_pause(
    deadline: Deadline, at: datetime, calendar: WorkingCalendar | None = None
) -> Deadline:
    since = deadline.paused_since
    if since is None:
        raise InvalidTransition(f"deadline {deadline.deadline_id} is not paused")
    if calendar is None:
        tz = deadline.due_at.tzinfo
        assert tz is not None, "deadlines hold aware times (require_aware)"
        calendar = OfficialCalendar(tz=tz)
    if at < since:
        raise ValueError("cannot resume before the pause started")
    pauses = (*deadline.pauses, Pause(since, at))
    if at == since:
        pauses = deadline.pauses  # a zero-length pause changes nothing
    return replace(
        deadline,
        pauses=pauses,
        paused_since=None,
        due_at=due_at(deadline.limit, deadline.opened_at, calendar, pauses),
        warn_at=warn_at(deadline.limit, deadline.opened_at, calendar, pauses),
    )


def resume(deadline: Deadline, at: datetime, calendar: WorkingCalendar | None = None) -> Transition:
    """Restart the clock; due and warning points move back by the pause."""
    at = deadline._at(at)
    if deadline.state is not DeadlineState.PAUSED:
        raise InvalidTransition(f"cannot resume a {deadline.state} deadline")
    deadline_before = deadline
    deadline = _close_pause(deadline, at, calendar)
    assert deadline_before.paused_since is not None  # _close_pause refused otherwise
    paused_for = at - deadline_before.paused_since
    # A warning already sent stays sent; otherwise the next check() decides.
    state = DeadlineState.WARNED if deadline.warned_at else DeadlineState.OPEN
    deadline = replace(deadline, state=state)
    return deadline, (
        DeadlineResumed(
            **deadline._base(at),
            paused_for=paused_for,
            due_at=deadline.due_at,
            warn_at=deadline.warn_at,
        ),
    )
