"""Domain events produced by deadline transitions.

Plain frozen dataclasses, stdlib only. The service layer translates them into
integration events (brightline.contracts) for Kafka; keeping them separate
lets the domain stay free of wire formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, kw_only=True)
class DeadlineEvent:
    deadline_id: str
    ticket_id: str
    limit_key: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True)
class DeadlineOpened(DeadlineEvent):
    policy: str  # pack ref, name@version
    due_at: datetime
    warn_at: datetime
    provisional: bool = False  # counted weekends-only through a year the calendar does not know


@dataclass(frozen=True, kw_only=True)
class DeadlineWarned(DeadlineEvent):
    due_at: datetime
    notify: tuple[str, ...]  # roles from the limit's `at: warning` levels


@dataclass(frozen=True, kw_only=True)
class DeadlineBreached(DeadlineEvent):
    due_at: datetime
    notify: tuple[str, ...]  # roles from the limit's `at: breach` levels


@dataclass(frozen=True, kw_only=True)
class DeadlineEscalated(DeadlineEvent):
    """A later escalation level (`breach+<delay>`) came due."""

    level: str  # as written in the pack, e.g. "breach+1d"
    notify: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DeadlineMet(DeadlineEvent):
    due_at: datetime
    on_time: bool
    late_by: timedelta  # zero when on time


@dataclass(frozen=True, kw_only=True)
class DeadlinePaused(DeadlineEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class DeadlineResumed(DeadlineEvent):
    paused_for: timedelta
    due_at: datetime  # moved by the pause
    warn_at: datetime


@dataclass(frozen=True, kw_only=True)
class DeadlineCancelled(DeadlineEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class DeadlineBreachRetracted(DeadlineEvent):
    """A late input proved the work was done by the due time: the breach fired is taken back."""

    due_at: datetime
    breached_at: datetime
    escalations: tuple[str, ...]  # escalation levels sent after the breach, taken back with it


@dataclass(frozen=True, kw_only=True)
class DeadlineRescheduled(DeadlineEvent):
    """The due time moved without a pause: a provisional count recomputed on new calendar data."""

    due_at: datetime
    warn_at: datetime
    provisional: bool
    reason: str
