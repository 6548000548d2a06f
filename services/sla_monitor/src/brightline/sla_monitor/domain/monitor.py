"""The monitor's decisions as pure functions of (inputs, time). Stdlib only.

Live service and replay call the same functions, so a rebuild from the event
history gives the same warnings and breaches:

- Every fire point is processed AT its scheduled time: a warning is stamped
  warn_at, a breach due_at, an escalation due_at + delay, whatever the
  wall-clock moment the scheduler (or a late consumer) got to it. Advancing a
  deadline to t1 and then to t2 therefore equals advancing it to t2 at once.
- An input (met, cancelled, paused, ...) first advances its deadline to just
  before the input's own occurrence time, then applies. A met event that arrives after
  the due time thus always finds the breach recorded, in live and in replay.
- Deadline ids are derived from (subject type, subject id, limit key), so a
  replay names deadlines exactly as the live run did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from brightline.calendar.working_days import CalendarOutOfRange

from .deadlines import (
    OFFICIAL_CALENDAR,
    PROVISIONAL_CALENDAR,
    Deadline,
    DeadlineState,
    InvalidTransition,
    WorkingCalendar,
    cancel,
    check,
    meet,
    open_deadline,
    pause,
    resume,
)
from .deadlines import due_at as compute_due_at
from .deadlines import warn_at as compute_warn_at
from .events import DeadlineEvent, DeadlineMet, DeadlineOpened, DeadlineRescheduled
from .policy import Limit, PolicyBook

_NAMESPACE = uuid.UUID("6b7c1f0e-5a55-4f4a-9c1e-95598b1a0001")

ERRORED = "errored"  # a deadline whose due time could not be computed (calendar out of range)


def deadline_id_for(subject_type: str, subject_id: str, limit_key: str, round: int = 0) -> str:
    """One deadline per subject, limit and round; a round > 0 is a clock opened again (a
    reopened complaint's new reply clock), its own deadline beside the met one."""
    suffix = f"#{round}" if round else ""
    return str(uuid.uuid5(_NAMESPACE, f"{subject_type}/{subject_id}/{limit_key}{suffix}"))


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, kw_only=True)
class Open:
    limit_key: str
    subject_type: str
    subject_id: str
    ticket_id: str | None
    at: datetime
    unit_id: str | None = None
    ticket_type: str | None = None
    round: int = 0  # > 0: the same limit opened again for the subject (reopened case)


@dataclass(frozen=True, kw_only=True)
class Meet:
    subject_type: str
    subject_id: str
    limit_keys: tuple[str, ...]
    at: datetime
    actor: str | None = None  # who, when a person did it through the API


@dataclass(frozen=True, kw_only=True)
class Cancel:
    subject_type: str
    subject_id: str
    limit_keys: tuple[str, ...] | None  # None: every deadline of the subject
    at: datetime
    reason: str
    actor: str | None = None  # who, when a person did it through the API


@dataclass(frozen=True, kw_only=True)
class Pause:
    subject_type: str
    subject_id: str
    limit_keys: tuple[str, ...] | None  # None: every pausable deadline of the subject
    at: datetime
    reason: str
    actor: str | None = None  # who, when a person did it through the API


@dataclass(frozen=True, kw_only=True)
class Resume:
    subject_type: str
    subject_id: str
    limit_keys: tuple[str, ...] | None
    at: datetime
    actor: str | None = None  # who, when a person did it through the API


Input = Open | Meet | Cancel | Pause | Resume


@dataclass(frozen=True, kw_only=True)
class LateInput:
    """An input about a deadline already settled (met, breached, cancelled) or errored: it
    changes nothing, but the monitor never drops it silently; it is kept on the deadline."""

    input: str  # meet | cancel | pause | resume
    at: datetime  # the input's own business time
    state: str  # the deadline's state when it came
    reason: str | None = None
    actor: str | None = None


# ---------------------------------------------------------------- tracked deadlines


@dataclass(frozen=True, kw_only=True)
class Tracked:
    """A deadline with what the monitor knows around it (subject, grouping keys, outcome)."""

    deadline_id: str
    subject_type: str
    subject_id: str
    limit: Limit
    policy: str
    opened_at: datetime
    ticket_id: str | None
    unit_id: str | None = None
    ticket_type: str | None = None
    deadline: Deadline | None = None  # None only when errored
    error: str | None = None
    # Counted weekends-only through a year the calendar does not know yet; recomputed on new data.
    provisional: bool = False
    met_on_time: bool | None = None
    cancel_reason: str | None = None
    late_inputs: tuple[LateInput, ...] = ()

    @property
    def state(self) -> str:
        return ERRORED if self.deadline is None else str(self.deadline.state)

    @property
    def is_final(self) -> bool:
        return self.deadline is None or self.deadline.state.is_final

    @property
    def next_fire_at(self) -> datetime | None:
        return None if self.deadline is None else next_fire_at(self.deadline)

    def matches(self, limit_keys: tuple[str, ...] | None) -> bool:
        return limit_keys is None or self.limit.key in limit_keys


Step = tuple[Tracked, tuple[DeadlineEvent, ...]]


def tells_nothing_new(tracked: Tracked, command: Meet | Cancel | Pause | Resume) -> bool:
    """Whether an input about a settled deadline is no news of it, so not a late input: one
    addressed to every clock of its subject (a case's closing cancels what still runs) says
    nothing of a clock already settled, and a meet at the very time the deadline was met is
    that fact told again (a call's end repeats its answer, for when the answered event was
    lost). An errored deadline (never counted) keeps everything said of it. Noted, they would be on every call and every case, and hide the late input that
    means something: a meet after a cancel, a cancel after a meet, a second meet later on."""
    deadline = tracked.deadline
    if deadline is None:
        return False  # errored: whatever comes about it is kept, it is all there is
    if command.limit_keys is None:
        return True
    return (
        isinstance(command, Meet)
        and deadline.state == DeadlineState.MET
        and deadline.closed_at == command.at
    )


def note_late(tracked: Tracked, command: Meet | Cancel | Pause | Resume) -> Tracked:
    """Keep an input that came after the deadline was settled, with what it said."""
    late = LateInput(
        input=type(command).__name__.lower(),
        at=command.at,
        state=tracked.state,
        reason=getattr(command, "reason", None),
        actor=command.actor,
    )
    return replace(tracked, late_inputs=(*tracked.late_inputs, late))


def open_tracked(
    command: Open, book: PolicyBook, calendar: WorkingCalendar = OFFICIAL_CALENDAR
) -> Step:
    """Open the limit of the pack in force at command.at.

    Raises KeyError when the pack has no such limit. A due date in a year the
    calendar does not know (brightline.calendar.CalendarOutOfRange) is still
    opened, counted weekends-only for that year and marked provisional: the
    promise runs, an alarm says it is a guess, and `recompute` fixes it once
    the year's holiday notice is entered.
    """
    pack = book.in_force(command.at)
    limit = pack.limit(command.limit_key)
    deadline_id = deadline_id_for(
        command.subject_type, command.subject_id, command.limit_key, command.round
    )
    base = Tracked(
        deadline_id=deadline_id,
        subject_type=command.subject_type,
        subject_id=command.subject_id,
        limit=limit,
        policy=pack.ref,
        opened_at=command.at,
        ticket_id=command.ticket_id,
        unit_id=command.unit_id,
        ticket_type=command.ticket_type,
    )
    try:
        deadline, events = open_deadline(
            deadline_id=deadline_id,
            ticket_id=command.ticket_id or command.subject_id,
            limit=limit,
            policy=pack.ref,
            opened_at=command.at,
            calendar=calendar,
        )
    except CalendarOutOfRange:
        deadline, events = open_deadline(
            deadline_id=deadline_id,
            ticket_id=command.ticket_id or command.subject_id,
            limit=limit,
            policy=pack.ref,
            opened_at=command.at,
            calendar=PROVISIONAL_CALENDAR,
        )
        return replace(base, deadline=deadline, opened_at=deadline.opened_at, provisional=True), (
            replace(_opened(events), provisional=True),
        )
    return replace(base, deadline=deadline, opened_at=deadline.opened_at), events


def _opened(events: tuple[DeadlineEvent, ...]) -> DeadlineOpened:
    opened = events[0]
    assert isinstance(opened, DeadlineOpened), "open_deadline records the opening first"
    return opened


def _met(events: tuple[DeadlineEvent, ...]) -> DeadlineMet:
    met = events[0]
    assert isinstance(met, DeadlineMet), "meet() records the meeting first"
    return met


def recompute(
    tracked: Tracked, at: datetime, calendar: WorkingCalendar = OFFICIAL_CALENDAR
) -> Step:
    """Count a provisional deadline again on the calendar as it now is.

    Only running clocks (open, warned, paused) move: a breach or a met already recorded on the
    provisional count stands, as it was announced. Still unknown: stays provisional (the count may
    still have changed if part of it became known)."""
    d = tracked.deadline
    if not tracked.provisional or d is None or d.state.is_final or d.breached_at is not None:
        return tracked, ()
    provisional = False
    try:
        due = compute_due_at(d.limit, d.opened_at, calendar, d.pauses)
        warn = compute_warn_at(d.limit, d.opened_at, calendar, d.pauses)
    except CalendarOutOfRange:
        provisional = True
        due = compute_due_at(d.limit, d.opened_at, PROVISIONAL_CALENDAR, d.pauses)
        warn = compute_warn_at(d.limit, d.opened_at, PROVISIONAL_CALENDAR, d.pauses)
    if provisional and due == d.due_at:
        return tracked, ()
    moved = replace(d, due_at=due, warn_at=warn)
    if d.warned_at is not None and d.state is not DeadlineState.PAUSED:
        # The warning already sent stays sent; a clock now further from its due time keeps going.
        moved = replace(moved, state=DeadlineState.WARNED)
    event = DeadlineRescheduled(
        **d._base(max(at, d.opened_at)),
        due_at=due,
        warn_at=warn,
        provisional=provisional,
        reason="calendar data for the year entered" if not provisional else "calendar changed",
    )
    return replace(tracked, deadline=moved, provisional=provisional), (event,)


def next_fire_at(deadline: Deadline) -> datetime | None:
    """The next moment check() has something to say, or None."""
    if deadline.state.is_final or deadline.state is DeadlineState.PAUSED:
        return None
    if deadline.state is DeadlineState.OPEN:
        return deadline.warn_at
    if deadline.state is DeadlineState.WARNED:
        return deadline.due_at
    pending = [
        deadline.due_at + level.delay
        for level in deadline.limit.levels("breach")
        if level.delay and level.at not in deadline.escalations_sent
    ]
    return min(pending) if pending else None


def advance(tracked: Tracked, until: datetime, *, inclusive: bool = True) -> Step:
    """Fire every point due by `until` (before it, when not inclusive), each at its scheduled time."""
    if tracked.deadline is None:
        return tracked, ()
    deadline = tracked.deadline
    events: list[DeadlineEvent] = []
    while (point := next_fire_at(deadline)) is not None and (
        point <= until if inclusive else point < until
    ):
        deadline, fired = check(deadline, point)
        if not fired:  # cannot happen for a consistent deadline; never loop forever
            break
        events.extend(fired)
    return replace(tracked, deadline=deadline), tuple(events)


def apply(tracked: Tracked, command: Input, calendar: WorkingCalendar | None = None) -> Step:
    """Advance to the command's time, then meet / cancel / pause / resume.

    Raises InvalidTransition for a pause or resume the deadline does not allow
    (the API answers 409; a consumer logs and moves on). A final or errored
    deadline is left alone.
    """
    if tracked.is_final:
        return tracked, ()
    # Points strictly before the input fire first. A point AT the input's time does not: work done
    # exactly at the due time is on time (meet() counts at <= due_at), so no breach may precede it.
    if isinstance(command, (Meet, Cancel)) and command.at < tracked.opened_at:
        # Done (staff there before the agreed hour began: in time) or called off before the clock
        # even started: it takes effect at the opening.
        command = replace(command, at=tracked.opened_at)
    tracked, events = advance(tracked, command.at, inclusive=False)
    deadline = tracked.deadline
    if deadline is None:  # advance() errored it: nothing left to apply
        return tracked, tuple(events)
    if isinstance(command, Meet):
        deadline, more = meet(deadline, command.at, calendar)
        tracked = replace(tracked, met_on_time=_met(more).on_time)
    elif isinstance(command, Cancel):
        deadline, more = cancel(deadline, command.at, command.reason)
        tracked = replace(tracked, cancel_reason=command.reason)
    elif isinstance(command, Pause):
        deadline, more = pause(deadline, command.at, command.reason)
    elif isinstance(command, Resume):
        deadline, more = resume(deadline, command.at, calendar)
    else:
        raise TypeError(f"cannot apply {type(command).__name__} to an open deadline")
    return replace(tracked, deadline=deadline), (*events, *more)


__all__ = [
    "ERRORED",
    "Cancel",
    "Input",
    "InvalidTransition",
    "Meet",
    "Open",
    "Pause",
    "Resume",
    "Tracked",
    "advance",
    "apply",
    "deadline_id_for",
    "next_fire_at",
    "open_tracked",
    "recompute",
]
