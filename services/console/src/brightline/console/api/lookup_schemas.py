"""What the desk's look-ups answer: records' tickets and timelines, customers found in intake's
directory, dispatch's service areas, callback's waiting tasks (as the console passes them on)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from brightline.contracts.events.common import TicketType


class RecordTicket(BaseModel):
    """A ticket as records shows this user: the caller fields are null when confidentiality
    withholds them (identity_hidden)."""

    ticket_id: str
    ticket_no: str | None = None
    ticket_type: str | None = None
    status: str | None = None
    recorded_at: datetime | None = None
    owner: str | None = None
    unit_id: str | None = None
    area_code: str | None = None
    has_breached: bool = False
    confidential: bool = False
    identity_hidden: bool = False
    caller_name: str | None = None
    phone: str | None = None
    address: str | None = None
    customer_id: str | None = None


class RecordPage(BaseModel):
    items: list[RecordTicket]
    next_cursor: str | None = None


class RecordSearch(BaseModel):
    """The search box: one of 工单号 / phone / name / address, or filters alone."""

    ticket_no: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=200)
    ticket_type: list[TicketType] = []
    status: str | None = Field(None, max_length=40)
    recorded_from: date | None = None
    recorded_to: date | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(20, ge=1, le=100)


class TimelineEntry(BaseModel):
    entry_id: str
    kind: str
    event_type: str
    occurred_at: datetime
    source: str
    data: dict[str, Any] = {}


class Timeline(BaseModel):
    ticket: RecordTicket
    entries: list[TimelineEntry]


class CustomerFound(BaseModel):
    customer_id: str
    name: str | None = None
    address: str | None = None
    area_code: str | None = None
    meter_no: str | None = None
    phones: list[str] = []


class CustomerLink(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64)
    call_id: str | None = Field(None, max_length=64)


class ServiceArea(BaseModel):
    area_code: str
    unit_id: str
    name: str | None = None


class WaitingCallback(BaseModel):
    id: str
    ticket_id: str
    ticket_type: str
    due_at: datetime
    overdue: bool
    attempts: int
    max_attempts: int
    lease_holder: str | None = None


class WaitingCallbacks(BaseModel):
    items: list[WaitingCallback]
    total: int
