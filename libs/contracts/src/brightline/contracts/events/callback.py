"""Events owned by the callback service."""

from datetime import date, datetime
from typing import Literal

from brightline.contracts.events.common import TicketType
from brightline.contracts.registry import EventPayload, event
from brightline.contracts.topics import CALLBACK_RATES, CALLBACK_TASKS

Origin = Literal["intake", "dispatch", "casework"]
CallbackOutcome = Literal[
    "satisfied", "basically_satisfied", "unsatisfied", "unreachable", "declined"
]


@event("brightline.callback.task.created.v1", topic=CALLBACK_TASKS, key="task_id")
class CallbackTaskCreatedV1(EventPayload):
    """A finished ticket is due a callback (回访) within the policy's window."""

    task_id: str
    ticket_id: str
    ticket_type: TicketType
    origin: Origin
    created_at: datetime
    due_at: datetime
    unit_id: str | None = None
    incident_id: str | None = None


@event("brightline.callback.outcome.recorded.v1", topic=CALLBACK_TASKS, key="task_id")
class CallbackOutcomeRecordedV1(EventPayload):
    """A callback task ended with an outcome (after one or more attempts)."""

    task_id: str
    ticket_id: str
    ticket_type: TicketType
    origin: Origin
    outcome: CallbackOutcome
    attempts: int
    recorded_at: datetime
    agent_id: str | None = None
    reason: str | None = None
    unit_id: str | None = None


@event("brightline.callback.reopen.requested.v1", topic=CALLBACK_TASKS, key="ticket_id")
class ReopenRequestedV1(EventPayload):
    """The customer is unsatisfied: the owning service (origin) reopens the ticket or case."""

    ticket_id: str
    task_id: str
    origin: Origin
    reason: str
    customer_words: str | None = None
    requested_at: datetime


@event("brightline.callback.rate.computed.v1", topic=CALLBACK_RATES, key="key")
class CallbackRateComputedV1(EventPayload):
    """Callback and satisfaction rates for one day, unit and ticket type."""

    key: str
    day: date
    unit_id: str
    ticket_type: TicketType
    finished: int
    called_back: int
    reached: int
    satisfied: int
    callback_rate: float
    satisfaction_rate: float | None
    computed_at: datetime
