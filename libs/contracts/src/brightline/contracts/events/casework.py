"""Events owned by the casework service."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from brightline.contracts.events.common import ComplaintGrade, ComplaintSubtype
from brightline.contracts.registry import EventPayload, event
from brightline.contracts.topics import CASEWORK_CASES

CaseType = Literal["complaint", "report", "opinion", "suggestion", "praise"]
CaseStatus = Literal[
    "opened",
    "transferred",
    "accepted",
    "investigating",
    "replied",
    "answered",
    "reopened",
    "closed",
]


@event("brightline.casework.case.opened.v1", topic=CASEWORK_CASES, key="case_id")
class CaseOpenedV1(EventPayload):
    """A case opened from an intake ticket. Carries no reporter identity (reports are confidential)."""

    case_id: str
    ticket_id: str
    case_type: CaseType
    opened_at: datetime
    first_ask_owner: str
    complaint_subtype: ComplaintSubtype | None = None
    complaint_grade: ComplaintGrade | None = None
    policy_pack: str | None = None


@event("brightline.casework.case.status-changed.v1", topic=CASEWORK_CASES, key="case_id")
class CaseStatusChangedV1(EventPayload):
    """A case moved: transferred to a department, accepted, replied, answered to the customer, ..."""

    case_id: str
    ticket_id: str
    case_type: CaseType
    status: CaseStatus
    previous_status: CaseStatus
    changed_at: datetime
    actor: str
    department_id: str | None = Field(
        None,
        description="The department holding the case; on a return to the centre (status "
        "opened after transferred, accepted or investigating: 回退) the department that "
        "returned it, which no longer holds it",
    )
    note: str | None = None
    reopen_count: int = Field(
        0,
        ge=0,
        description="Times the case was reopened; a reopening (status reopened) opens reply "
        "clock number reopen_count from the policy pack in force",
    )
    reply_round: int = Field(
        0,
        ge=0,
        description="Replies the department gave so far: a reply sent back (investigating "
        "after replied) or a reopened case replies again, and each reply (status replied) opens "
        "the first-ask owner's answer clock number reply_round",
    )
    transfer_round: int = Field(
        0,
        ge=0,
        description="Times a department returned the case to the centre (回退): each return "
        "(status opened) opens transfer clock number transfer_round, from the policy pack in "
        "force at the return",
    )


@event("brightline.casework.case.reminded.v1", topic=CASEWORK_CASES, key="case_id")
class CaseRemindedV1(EventPayload):
    """A reminder (催办) recorded for the department handling a case whose deadline nears."""

    case_id: str
    ticket_id: str
    case_type: CaseType
    status: CaseStatus
    limit_key: str
    due_at: datetime
    reminded_at: datetime
    deadline_id: str
    department_id: str | None = None


@event("brightline.casework.case.escalated.v1", topic=CASEWORK_CASES, key="case_id")
class CaseEscalatedV1(EventPayload):
    """A case's deadline passed: escalated to the duty supervisor (listed on their console)."""

    case_id: str
    ticket_id: str
    case_type: CaseType
    status: CaseStatus
    limit_key: str
    level: str
    due_at: datetime
    escalated_at: datetime
    deadline_id: str
    department_id: str | None = None


@event("brightline.casework.case.chased.v1", topic=CASEWORK_CASES, key="case_id")
class CaseChasedV1(EventPayload):
    """The customer called again about a case still being handled (催办): recorded as a
    consultation linked to it, and the handling department is chased."""

    case_id: str
    ticket_id: str
    case_type: CaseType
    status: CaseStatus
    chased_at: datetime
    by_ticket_id: str
    department_id: str | None = None
