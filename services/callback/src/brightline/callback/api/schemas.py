from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["satisfied", "basically_satisfied", "unsatisfied", "unreachable", "declined"]


class CallbackTaskRead(BaseModel):
    """A task without the customer's contact (that only goes to the agent holding the lease)."""

    id: str
    ticket_id: str
    ticket_type: str
    origin: str
    unit_id: str
    incident_id: str | None
    finished_at: datetime
    due_at: datetime
    overdue: bool
    status: str
    callable: bool
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    outcome: str | None
    reason: str | None
    customer_words: str | None
    agent_id: str | None
    lease_holder: str | None
    lease_expires_at: datetime | None
    restoration_notice_at: datetime | None = Field(
        None, description="When an outage batch told this customer power is back (no callback)"
    )
    result: str | None = Field(None, description="The handling result the callback states")


class ContactRead(BaseModel):
    phone: str
    # None for reports (举报): a reporter's identity is never shown beyond the number to call.
    customer_name: str | None


class AssignedTaskRead(BaseModel):
    task: CallbackTaskRead
    contact: ContactRead
    # Other open tasks of the same outage incident, to work them as one batch.
    incident_task_ids: list[str] = Field(default_factory=list)


class AttemptRead(BaseModel):
    attempt_no: int
    agent_id: str
    outcome: str
    reason: str | None
    customer_words: str | None
    at: datetime


class CallbackTaskDetail(CallbackTaskRead):
    attempt_log: list[AttemptRead]


class OutcomeCreate(BaseModel):
    outcome: Outcome
    reason: str | None = Field(None, max_length=2000, description="Required when unsatisfied")
    customer_words: str | None = Field(
        None, max_length=4000, description="The customer's words, as said"
    )


class RestorationNoticeRead(BaseModel):
    incident_id: str
    noted: list[CallbackTaskRead]


class CallbackRateRead(BaseModel):
    key: str
    day: date
    unit_id: str
    ticket_type: str
    finished: int = Field(description="Tickets due a callback: the callback rate's denominator")
    called_back: int = Field(description="Customers actually reached: the numerator")
    reached: int
    satisfied: int
    callback_rate: float
    satisfaction_rate: float | None
    attempted_unreached: int = Field(
        0, description="Tickets whose every attempt failed to reach the customer: not callbacks"
    )


class WaitingTasksRead(BaseModel):
    """One page of the open tasks, soonest due first."""

    items: list[CallbackTaskRead]
    total: int
