"""Request and response bodies: TicketCreate in, TicketRead out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from brightline.contracts.events.common import ComplaintGrade, ComplaintSubtype, FaultScope


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_type: Literal[
        "repair", "consultation", "service_request", "complaint", "report", "opinion", "suggestion", "praise"
    ]
    description: str = Field(min_length=1, max_length=4000)
    call_id: str | None = None
    customer_id: str | None = None
    caller_name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, pattern=r"^\+?[0-9-]{5,20}$")
    address: str | None = Field(None, max_length=300)
    area_code: str | None = Field(None, max_length=32)
    meter_no: str | None = Field(None, max_length=32)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    fault_scope: FaultScope | None = None
    complaint_subtype: ComplaintSubtype | None = None
    complaint_grade: ComplaintGrade | None = None
    anonymous: bool = False
    reported_party: str | None = Field(None, max_length=200)
    script: str | None = Field(None, max_length=100)


class TicketRead(BaseModel):
    id: str
    no: str
    ticket_type: str
    status: str
    recorded_at: datetime
    first_ask_owner: str
    description: str
    details: dict
