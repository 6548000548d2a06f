"""Events owned by the intake service."""

from datetime import datetime

from pydantic import Field

from brightline.contracts.events.common import ComplaintGrade, ComplaintSubtype, FaultScope, TicketType
from brightline.contracts.registry import EventPayload, event
from brightline.contracts.topics import INTAKE_TICKETS


@event("brightline.intake.ticket.recorded.v1", topic=INTAKE_TICKETS, key="ticket_id")
class TicketRecordedV1(EventPayload):
    """A ticket of any 95598 type recorded by the agent who answered (first-ask owner)."""

    ticket_id: str
    ticket_no: str
    ticket_type: TicketType
    recorded_at: datetime
    first_ask_owner: str = Field(description="Agent id of the first receiver (首问负责人)")
    description: str
    call_id: str | None = None
    customer_id: str | None = None
    caller_name: str | None = None
    phone: str | None = None
    address: str | None = None
    area_code: str | None = Field(None, description="Service-area code used to route repairs")
    meter_no: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    fault_scope: FaultScope | None = None
    complaint_subtype: ComplaintSubtype | None = None
    complaint_grade: ComplaintGrade | None = None
    anonymous: bool = False
    reported_party: str | None = None
    linked_ticket_id: str | None = None
    script: str | None = Field(None, description="Call script used, as id@version")
