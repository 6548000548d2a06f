"""What casework is asked to do, by people (routes) and by other services (consumers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from brightline.casework.domain.confidentiality import Viewer
from brightline.contracts.events.casework import CaseType
from brightline.contracts.events.common import ComplaintGrade, ComplaintSubtype


@dataclass(frozen=True)
class Contact:
    """The reporter's identity and contact: stored encrypted, apart from the case, never in events."""

    caller_name: str | None = None
    phone: str | None = None
    address: str | None = None
    customer_id: str | None = None

    def is_empty(self) -> bool:
        return not any((self.caller_name, self.phone, self.address, self.customer_id))


@dataclass(frozen=True)
class OpenCase:
    ticket_id: str
    ticket_no: str | None
    case_type: CaseType
    opened_at: datetime
    first_ask_owner: str
    description: str
    contact: Contact
    complaint_subtype: ComplaintSubtype | None = None
    complaint_grade: ComplaintGrade | None = None
    anonymous: bool = False
    reported_party: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who acts: subject, and the department a caseworker belongs to (None for others)."""

    subject: str
    department_id: str | None = None
    is_supervisor: bool = False


@dataclass(frozen=True)
class TransferCase:
    case_id: str
    department_id: str
    actor: Actor
    note: str | None = None


@dataclass(frozen=True)
class AcceptCase:
    case_id: str
    actor: Actor


@dataclass(frozen=True)
class InvestigateCase:
    case_id: str
    note: str
    actor: Actor


@dataclass(frozen=True)
class ReplyToCase:
    case_id: str
    text: str
    actor: Actor


@dataclass(frozen=True)
class SendBackReply:
    case_id: str
    reason: str
    actor: Actor


@dataclass(frozen=True)
class ReturnToCentre:
    case_id: str
    reason: str
    actor: Actor


@dataclass(frozen=True)
class AnswerCustomer:
    case_id: str
    text: str
    actor: Actor


@dataclass(frozen=True)
class CloseCase:
    case_id: str
    actor: Actor
    note: str | None = None


@dataclass(frozen=True)
class ReopenCase:
    ticket_id: str
    reason: str
    requested_at: datetime
    customer_words: str | None = None


@dataclass(frozen=True)
class HandCaseOver:
    """Intake moved the ticket's first-ask ownership (shift handover or supervisor takeover)."""

    ticket_id: str
    new_owner: str
    reason: str
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class RecordDeadline:
    deadline_id: str
    case_id: str
    limit_key: str
    policy_pack: str
    opened_at: datetime | None
    warn_at: datetime | None
    due_at: datetime
    state: str = "open"


@dataclass(frozen=True)
class RemindDepartment:
    deadline_id: str
    case_id: str
    limit_key: str
    due_at: datetime
    warned_at: datetime
    notify: tuple[str, ...]
    policy_pack: str = "unknown"


@dataclass(frozen=True)
class ChaseFromSupervisor:
    """The duty supervisor chases (催办) the department handling a case, from the clocks board."""

    case_id: str
    deadline_id: str
    limit_key: str
    due_at: datetime
    actor: str
    at: datetime


@dataclass(frozen=True)
class EscalateToSupervisor:
    deadline_id: str
    case_id: str
    limit_key: str
    level: str
    due_at: datetime
    breached_at: datetime
    notify: tuple[str, ...]
    policy_pack: str = "unknown"


@dataclass(frozen=True)
class SettleDeadline:
    deadline_id: str
    state: str  # met | cancelled


@dataclass(frozen=True)
class CloseAfterCallback:
    """The callback of an answered case ended without an unsatisfied customer: archive it."""

    ticket_id: str
    outcome: str
    recorded_at: datetime


@dataclass(frozen=True)
class ChaseCase:
    """A repeat call about an open case, recorded at intake as a linked consultation."""

    ticket_id: str  # the case's ticket
    by_ticket_id: str  # the consultation that chased it
    actor: str
    at: datetime


@dataclass(frozen=True)
class ReadContact:
    """Read a case's reporter identity: audited whether the rules grant it or refuse it."""

    case_id: str
    viewer: Viewer
