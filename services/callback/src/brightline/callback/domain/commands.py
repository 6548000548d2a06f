from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from brightline.contracts.events.callback import CallbackOutcome, Origin
from brightline.contracts.events.common import TicketType


@dataclass(frozen=True)
class RememberContact:
    """Who to call back for a ticket, as intake recorded it."""

    ticket_id: str
    ticket_type: TicketType
    phone: str | None
    caller_name: str | None
    area_code: str | None
    anonymous: bool
    recorded_at: datetime | None = None  # when the customer called: the day the callback names


@dataclass(frozen=True)
class OpenCallbackTask:
    """A ticket finished in its owning service (origin)."""

    ticket_id: str
    ticket_type: TicketType
    origin: Origin
    unit_id: str | None
    finished_at: datetime
    finish_ref: str  # what finished, so a redelivered or repeated fact opens no second task
    incident_id: str | None = None
    phone: str | None = None
    result: str | None = None  # the handling result the callback states
    # A repair's, as the crew returned the order: the result is said from these (rule data).
    resolution: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class TakeNextTask:
    agent_id: str


@dataclass(frozen=True)
class RecordOutcome:
    task_id: str
    agent_id: str
    outcome: CallbackOutcome
    reason: str | None = None
    customer_words: str | None = None


@dataclass(frozen=True)
class GiveRestorationNotice:
    """An outage's customers were told power is back, as one batch. Not a callback: no outcome,
    no satisfaction; each customer's own callback stays open."""

    incident_id: str
    agent_id: str
