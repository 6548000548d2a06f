"""The ticket as first recorded by the agent who answered (首问负责制). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from brightline.contracts.events.common import TicketType
from brightline.intake.domain import events
from brightline.intake.domain.events import TicketRecorded

# A ticket's status at intake: recorded; completed by the agent who answered or arranged it
# (reopened after an unsatisfied callback); a repair resolved with its work order; a case type
# answered and closed with its case.
TicketStatus = Literal["recorded", "completed", "reopened", "resolved", "answered", "closed"]
# Types whose whole life is at intake: the agent answers or arranges them and closes them here.
# Repairs close with their work order (dispatch), the rest are casework's.
SELF_CLOSING_TYPES = ("consultation", "service_request")
# Types casework owns; intake's copy follows the case's life from casework's events.
CASE_TYPES = ("complaint", "report", "opinion", "suggestion", "praise")
# A case status -> the status of intake's copy. Until the customer is answered the matter is open
# with its first-ask owner (and goes with them at handover); answered, it waits for its callback;
# a callback that finds the customer unsatisfied reopens it; closed is archived.
CASE_STATUS_TO_TICKET: dict[str, TicketStatus] = {
    "answered": "answered",
    "reopened": "reopened",
    "closed": "closed",
}


class MissingFields(ValueError):
    def __init__(self, ticket_type: str, fields: list[str]) -> None:
        super().__init__(f"a {ticket_type} ticket needs: {', '.join(fields)}")
        self.ticket_type = ticket_type
        self.fields = fields


def require_fields(
    type: str, description: str, details: dict[str, Any], required_fields: Sequence[str]
) -> None:
    present = {"description": description, **details}
    missing = [f for f in required_fields if present.get(f) in (None, "")]
    if missing:
        raise MissingFields(type, missing)


class IllegalTransition(ValueError):
    pass


@dataclass
class Ticket:
    id: str
    no: str
    type: TicketType
    recorded_at: datetime
    first_ask_owner: str
    description: str
    status: TicketStatus = "recorded"
    details: dict[str, Any] = field(default_factory=dict)
    owner: str = ""
    completed_at: datetime | None = None
    completed_by: str | None = None
    events: list[TicketRecorded] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.owner = self.owner or self.first_ask_owner

    @property
    def open(self) -> bool:
        return self.status in ("recorded", "reopened")

    @classmethod
    def record(
        cls,
        *,
        id: str,
        no: str,
        type: TicketType,
        recorded_at: datetime,
        first_ask_owner: str,
        description: str,
        details: dict[str, Any],
        required_fields: Sequence[str],
    ) -> Ticket:
        """`required_fields` come from the ticket type's call script (the script engine)."""
        require_fields(type, description, details, required_fields)
        ticket = cls(
            id=id,
            no=no,
            type=type,
            recorded_at=recorded_at,
            first_ask_owner=first_ask_owner,
            description=description,
            details=details,
        )
        ticket.events.append(events.TicketRecorded(ticket))
        return ticket

    def complete(self, by: str, at: datetime, answer: str | None = None) -> None:
        """The agent answered or arranged it; the answer given is kept (the callback states it)."""
        if self.type not in SELF_CLOSING_TYPES:
            raise IllegalTransition(
                f"a {self.type} ticket is closed by its owning service, not at intake"
            )
        if not self.open:
            raise IllegalTransition(f"ticket is {self.status}")
        self.status, self.completed_at, self.completed_by = "completed", at, by
        if answer:
            self.details = {**self.details, "answer": answer}

    def reopen(self) -> bool:
        """Reopen after an unsatisfied callback; False when there is nothing to reopen."""
        if self.status != "completed":
            return False
        self.status, self.completed_at, self.completed_by = "reopened", None, None
        return True

    def follow_case(self, case_status: str, at: datetime) -> bool:
        """Mirror the case's life (casework owns it). True when intake's view changed."""
        if self.type not in CASE_TYPES:
            return False
        self.details = {**self.details, "case_status": case_status}
        status = CASE_STATUS_TO_TICKET.get(case_status)
        if status is not None and status != self.status:
            self.status = status
            self.completed_at = None if status == "reopened" else (self.completed_at or at)
            if status == "reopened":
                self.completed_by = None
        return True

    def hand_to(self, new_owner: str) -> str:
        if not new_owner or not new_owner.strip():
            raise ValueError("a ticket must always have an owner")
        previous, self.owner = self.owner, new_owner
        return previous
