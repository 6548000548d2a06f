"""Domain events of callback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from brightline.contracts.events.callback import CallbackOutcome

if TYPE_CHECKING:
    from brightline.callback.domain.model import CallbackTask


@dataclass(frozen=True)
class TaskCreated:
    task: CallbackTask


@dataclass(frozen=True)
class AttemptMade:
    task: CallbackTask
    outcome: CallbackOutcome
    agent_id: str
    at: datetime
    reason: str | None
    customer_words: str | None


@dataclass(frozen=True)
class TaskClosed:
    task: CallbackTask
    outcome: CallbackOutcome
    at: datetime


@dataclass(frozen=True)
class ReopenRequested:
    task: CallbackTask
    at: datetime


# What a callback aggregate records; handlers translate each into its integration event.
DomainEvent = TaskCreated | AttemptMade | TaskClosed | ReopenRequested
