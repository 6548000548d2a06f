"""The ticket as first recorded by the agent who answered (首问负责制). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from brightline.intake.domain import events

TICKET_TYPES = (
    "repair", "consultation", "service_request", "complaint", "report", "opinion", "suggestion", "praise",
)

# What an agent must capture before a ticket of each type can be recorded (004, 3.1–3.3).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "repair": ("caller_name", "phone", "address", "description"),
    "consultation": ("phone", "description"),
    "service_request": ("caller_name", "phone", "address", "description"),
    "complaint": ("caller_name", "phone", "complaint_subtype", "description"),
    "report": ("description",),  # a whistle-blower may stay anonymous
    "opinion": ("phone", "description"),
    "suggestion": ("phone", "description"),
    "praise": ("description",),
}


class MissingFields(ValueError):
    def __init__(self, ticket_type: str, fields: list[str]) -> None:
        super().__init__(f"a {ticket_type} ticket needs: {', '.join(fields)}")
        self.ticket_type = ticket_type
        self.fields = fields


@dataclass
class Ticket:
    id: str
    no: str
    type: str
    recorded_at: datetime
    first_ask_owner: str
    description: str
    status: str = "recorded"
    details: dict = field(default_factory=dict)
    events: list = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(
        cls, *, id: str, no: str, type: str, recorded_at: datetime, first_ask_owner: str,
        description: str, details: dict,
    ) -> "Ticket":
        present = {"description": description, **details}
        missing = [f for f in REQUIRED_FIELDS[type] if present.get(f) in (None, "")]
        if missing:
            raise MissingFields(type, missing)
        ticket = cls(id=id, no=no, type=type, recorded_at=recorded_at, first_ask_owner=first_ask_owner,
                     description=description, details=details)
        ticket.events.append(events.TicketRecorded(ticket))
        return ticket
