from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from brightline.platform.validation import Said

CaseType = Literal["complaint", "report", "opinion", "suggestion", "praise"]


class StepRead(BaseModel):
    action: str
    actor: str
    at: datetime
    from_status: str | None
    to_status: str | None
    department_id: str | None
    note: str | None


class DeadlineRead(BaseModel):
    deadline_id: str
    limit_key: str
    policy_pack: str
    opened_at: datetime | None
    warn_at: datetime | None
    due_at: datetime
    state: str


class ReminderRead(BaseModel):
    id: str
    case_id: str
    deadline_id: str
    limit_key: str
    department_id: str | None
    due_at: datetime
    warned_at: datetime
    notify: list[str]


class EscalationRead(BaseModel):
    id: str
    case_id: str
    deadline_id: str
    limit_key: str
    level: str
    department_id: str | None
    due_at: datetime
    breached_at: datetime
    notify: list[str]


class ReturnRead(BaseModel):
    department_id: str | None = Field(description="The department that returned the case")
    actor: str
    at: datetime
    reason: str | None


class CaseSummary(BaseModel):
    id: str
    ticket_id: str
    ticket_no: str | None
    case_type: str
    status: str
    opened_at: datetime
    first_ask_owner: str
    department_id: str | None
    complaint_subtype: str | None
    complaint_grade: str | None
    anonymous: bool
    confidential: bool
    transfer_due: datetime | None = Field(
        description="首问负责制: transfer to the department by then (working days)"
    )
    reply_due: datetime | None = Field(
        None,
        description="The department's reply is due by then: the earliest running reply limit "
        "(complaint.reply, report.reply, ...) the SLA monitor opened for the case",
    )
    sent_back: bool = Field(
        False,
        description="审核: the reply was sent back to the department and not replied to since",
    )
    returned: ReturnRead | None = Field(
        None,
        description="回退: the department that handed this opened case back to the centre, and "
        "why; the centre transfers it anew",
    )


class CaseRead(CaseSummary):
    description: str
    reported_party: str | None = Field(
        None, description="Shown only to readers of the confidential fields"
    )
    reply_text: str | None
    answer_text: str | None
    reopen_count: int
    deadlines: list[DeadlineRead]
    reminders: list[ReminderRead]
    escalations: list[EscalationRead]
    history: list[StepRead]


class ChaseCreate(BaseModel):
    """A supervisor's chase (催办) of one of the case's deadlines, as the SLA monitor has it."""

    deadline_id: str = Field(min_length=1, max_length=64)
    limit_key: str = Field(min_length=1, max_length=100)
    due_at: datetime


class TransferCreate(BaseModel):
    department_id: str = Field(min_length=1, max_length=64)
    note: str | None = Field(None, max_length=2000)


class InvestigationCreate(BaseModel):
    note: Said = Field(max_length=4000)


class ReplyCreate(BaseModel):
    text: Said = Field(max_length=8000, description="The department's reply; no forbidden phrases")


class SendBackCreate(BaseModel):
    reason: Said = Field(
        max_length=2000,
        description="Why the reply does not do: read by the department, kept in the history",
    )


class ReturnCreate(BaseModel):
    reason: Said = Field(
        max_length=2000,
        description="Why the case is not the department's: read by the duty supervisor who "
        "transfers it anew, kept in the history",
    )


class AnswerCreate(BaseModel):
    text: Said = Field(
        max_length=8000,
        description="What the customer was told; no forbidden phrases",
    )


class CloseCreate(BaseModel):
    note: str | None = Field(None, max_length=2000)


class ContactRead(BaseModel):
    case_id: str
    anonymous: bool
    caller_name: str | None
    phone: str | None
    address: str | None
    customer_id: str | None


class DepartmentUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    case_types: list[CaseType] = Field(min_length=1)
    active: bool = True


class DepartmentRead(DepartmentUpdate):
    id: str
    updated_at: datetime
    updated_by: str


class ConfidentialReadRead(BaseModel):
    id: int
    case_id: str
    ticket_id: str
    ticket_no: str | None
    case_type: str
    reader: str
    roles: list[str]
    department_id: str | None
    fields: list[str]
    granted: bool
    at: datetime
