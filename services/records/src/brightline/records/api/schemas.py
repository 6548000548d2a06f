from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TicketRead(BaseModel):
    """A ticket as the read side knows it. Caller fields are null where the confidentiality
    rules hide them (always for a report: its reporter is read in casework only)."""

    ticket_id: str
    ticket_no: str | None
    ticket_type: str | None
    status: str | None
    recorded_at: datetime | None
    first_ask_owner: str | None
    owner: str | None
    unit_id: str | None
    department_id: str | None
    area_code: str | None
    has_breached: bool
    anonymous: bool
    linked_ticket_id: str | None
    confidential: bool = Field(description="Finding it is restricted and every read audited")
    identity_hidden: bool = Field(description="Caller fields withheld by the confidentiality rules")
    caller_name: str | None = None
    phone: str | None = None
    address: str | None = None
    customer_id: str | None = None


class TicketPagination(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


class TimelineEntryRead(BaseModel):
    entry_id: str
    kind: str = Field(description="e.g. call.ringing, ticket.recorded, work_order.on_site, other")
    event_type: str
    occurred_at: datetime
    source: str
    ticket_id: str | None
    call_id: str | None = Field(
        description="null where the ticket's caller is withheld (`identity_hidden`)"
    )
    incident_id: str | None
    data: dict[str, Any] = Field(description="The event's data without personal fields")


class TimelineRead(BaseModel):
    ticket: TicketRead
    entries: list[TimelineEntryRead]


class ConfidentialReadRead(BaseModel):
    id: int
    ticket_id: str
    ticket_no: str | None = None
    reader: str
    roles: list[str]
    department_id: str | None
    action: str
    granted: bool
    at: datetime
