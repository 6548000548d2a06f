"""Commands: what someone asks intake to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from brightline.contracts.events.common import TicketType
from brightline.contracts.events.intake import EscalationKind, EscalationOutcome, EscalationReason
from brightline.intake.domain.calls import QuietLimits


@dataclass(frozen=True)
class RecordTicket:
    ticket_type: TicketType
    description: str
    first_ask_owner: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordCallEvent:
    call_id: str
    event: str  # newCall | answer | hangup
    timestamp: datetime
    body: dict[str, Any]
    caller_number: str | None = None
    called_number: str | None = None
    queue: str | None = None
    agent_extension: str | None = None
    agent_id: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class GiveUpCall:
    """A call ringing or answered that the switch has said nothing more of for its `limits`:
    its hangup was lost (domain.calls)."""

    call_id: str
    limits: QuietLimits


@dataclass(frozen=True)
class CompleteTicket:
    ticket_id: str
    by: str
    unit_id: str | None = None
    answer: str | None = None
    supervisor: bool = False  # a supervisor may complete any ticket; an agent only their own


@dataclass(frozen=True)
class RecordCallOutcome:
    """A call that ended without a repair or case ticket: recorded as a closed consultation."""

    outcome: str
    description: str
    agent: str
    details: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    unit_id: str | None = None


@dataclass(frozen=True)
class ReopenTicket:
    ticket_id: str
    reason: str


@dataclass(frozen=True)
class RequestEscalation:
    kind: EscalationKind
    reason: EscalationReason
    agent_id: str
    call_id: str | None = None
    ticket_id: str | None = None
    caller_number: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ResolveEscalation:
    escalation_id: str
    outcome: EscalationOutcome
    supervisor_id: str
    reason: str | None = None  # why; a decline must say it, the agent is told


@dataclass(frozen=True)
class HandOver:
    from_agent: str
    to_agent: str
    by: str
    # Only these of the agent's open tickets (a shift splits its work between colleagues);
    # None: every one.
    ticket_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FollowCase:
    """Casework moved the case recorded from this ticket."""

    ticket_id: str
    case_status: str
    changed_at: datetime


@dataclass(frozen=True)
class KeepArrivalDeadline:
    """A repair's arrival clock, told to repeat callers about the same fault."""

    work_order_id: str
    ticket_id: str
    due_at: datetime
    opened_at: datetime
