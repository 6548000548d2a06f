"""Events owned by the callback service."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

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


@event("brightline.callback.restoration-notice.given.v1", topic=CALLBACK_TASKS, key="incident_id")
class RestorationNoticeGivenV1(EventPayload):
    """An outage's customers were told, as one batch, that power is back. No callback: it sets no
    outcome and no satisfaction, and each customer's own callback task stays open."""

    incident_id: str
    task_ids: list[str]
    agent_id: str
    given_at: datetime


@event("brightline.callback.rate.computed.v1", topic=CALLBACK_RATES, key="key")
class CallbackRateComputedV1(EventPayload):
    """Callback and satisfaction rates for one day, unit and ticket type.

    callback_rate = called_back / finished, where finished counts every ticket due a callback
    and called_back only customers actually reached; tickets whose every attempt failed are
    attempted_unreached, their own figure, never in the numerator."""

    key: str
    day: date
    unit_id: str
    ticket_type: TicketType
    finished: int = Field(description="Tickets due a callback (the denominator)")
    called_back: int = Field(description="Customers actually reached (the numerator)")
    reached: int
    satisfied: int
    callback_rate: float
    satisfaction_rate: float | None
    computed_at: datetime
    attempted_unreached: int = Field(
        0, description="Tasks whose every attempt failed to reach the customer: not callbacks"
    )
