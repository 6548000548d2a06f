"""Events owned by the intake service."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from brightline.contracts.events.common import (
    ComplaintGrade,
    ComplaintSubtype,
    FaultScope,
    ServiceMilestone,
    ServiceSubtype,
    TicketType,
)
from brightline.contracts.registry import EventPayload, event
from brightline.contracts.sealed import Sealed
from brightline.contracts.topics import INTAKE_CALLS, INTAKE_ESCALATIONS, INTAKE_TICKETS


@event("brightline.intake.ticket.recorded.v1", topic=INTAKE_TICKETS, key="ticket_id")
class TicketRecordedV1(EventPayload):
    """A ticket of any 95598 type recorded by the agent who answered (first-ask owner).

    Superseded by v2 (personal data sealed); still read where the topic's history is replayed."""

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
    fault_started_at: datetime | None = Field(
        None, description="When the power went off, as the caller said (repairs)"
    )
    complaint_subtype: ComplaintSubtype | None = None
    complaint_grade: ComplaintGrade | None = None
    service_subtype: ServiceSubtype | None = Field(
        None, description="服务申请 sub-type; the ones with a time limit open it at the SLA monitor"
    )
    appointment_at: datetime | None = Field(
        None, description="预约: start of the agreed hour (the staff must arrive before it ends)"
    )
    planned_outage_id: str | None = Field(
        None, description="The planned outage (计划停电) a consultation is about"
    )
    anonymous: bool = False
    reported_party: str | None = None
    linked_ticket_id: str | None = None
    linked_incident_id: str | None = Field(
        None,
        description="Outage incident a repeat call was linked to (a consultation about a known outage)",
    )
    script: str | None = Field(None, description="Call script used, as id@version")
    call_outcome: str | None = Field(
        None,
        description="A call that ended without a repair or case ticket, recorded as a "
        "consultation: resolved_on_call, self_check_guidance, paid_service_referral, "
        "answered_on_spot (rules/call_outcomes.yaml)",
    )


@event("brightline.intake.ticket.recorded.v2", topic=INTAKE_TICKETS, key="ticket_id")
class TicketRecordedV2(TicketRecordedV1):
    """A ticket of any 95598 type recorded by the agent who answered (first-ask owner); the
    caller's name, phone and address and the reported party are sealed (docs/personal-data.md)."""

    caller_name: Sealed = None
    phone: Sealed = None
    address: Sealed = None
    reported_party: Sealed = None


CallEndCause = Literal["normal", "abandoned", "transferred", "silent"]
OwnerChangeReason = Literal["takeover", "handover"]
EscalationKind = Literal["help", "handover"]
EscalationReason = Literal["agitated", "harassing", "complex", "other"]
EscalationOutcome = Literal["accepted", "taken_over", "marked_harassing", "declined"]


@event("brightline.intake.call.ringing.v1", topic=INTAKE_CALLS, key="call_id")
class CallRingingV1(EventPayload):
    """A call rings in a queue (the switch's newCall).

    Superseded by v2 (caller number sealed); still read where the topic's history is replayed."""

    call_id: str
    caller_number: str
    called_number: str
    queue: str
    rang_at: datetime = Field(description="The switch's timestamp")


# Not a subclass of v1: v1's number is a plain string, a sealed one may be absent.
@event("brightline.intake.call.ringing.v2", topic=INTAKE_CALLS, key="call_id")
class CallRingingV2(EventPayload):
    """A call rings in a queue (the switch's newCall); the caller's number is sealed."""

    call_id: str
    caller_number: Sealed
    called_number: str
    queue: str
    rang_at: datetime = Field(description="The switch's timestamp")


@event("brightline.intake.call.answered.v1", topic=INTAKE_CALLS, key="call_id")
class CallAnsweredV1(EventPayload):
    """An agent answered; the delay comes from the switch's timestamps (12-second rule)."""

    call_id: str
    queue: str
    agent_extension: str
    agent_id: str | None = None
    rang_at: datetime | None
    answered_at: datetime
    answer_delay_seconds: float | None


@event("brightline.intake.call.ended.v1", topic=INTAKE_CALLS, key="call_id")
class CallEndedV1(EventPayload):
    """A call ended: normal, abandoned before answer, transferred, or silent."""

    call_id: str
    queue: str
    cause: CallEndCause
    rang_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime
    agent_extension: str | None = None
    answer_delay_seconds: float | None = None


@event("brightline.intake.ticket.owner-changed.v1", topic=INTAKE_TICKETS, key="ticket_id")
class TicketOwnerChangedV1(EventPayload):
    """First-ask ownership moved: supervisor takeover or shift handover (audited)."""

    ticket_id: str
    previous_owner: str
    new_owner: str
    reason: OwnerChangeReason
    changed_by: str
    changed_at: datetime


@event("brightline.intake.ticket.completed.v1", topic=INTAKE_TICKETS, key="ticket_id")
class TicketCompletedV1(EventPayload):
    """A ticket intake closes itself (consultation answered, service request done): callback is due.

    Superseded by v2 (phone sealed); still read where the topic's history is replayed."""

    ticket_id: str
    ticket_type: TicketType
    completed_at: datetime
    completed_by: str
    unit_id: str | None = None
    phone: str | None = None
    answer: str | None = Field(
        None, description="The answer given to the customer (the handling result a callback states)"
    )
    callback_due: bool = Field(
        True, description="False only where the rules say this outcome is not called back"
    )


@event("brightline.intake.ticket.completed.v2", topic=INTAKE_TICKETS, key="ticket_id")
class TicketCompletedV2(TicketCompletedV1):
    """A ticket intake closes itself (consultation answered, service request done): callback is
    due; the phone to call back is sealed."""

    phone: Sealed = None


@event("brightline.intake.ticket.reopened.v1", topic=INTAKE_TICKETS, key="ticket_id")
class TicketReopenedV1(EventPayload):
    """An intake-owned ticket reopened after an unsatisfied callback."""

    ticket_id: str
    reason: str
    reopened_at: datetime


@event("brightline.intake.escalation.requested.v1", topic=INTAKE_ESCALATIONS, key="escalation_id")
class EscalationRequestedV1(EventPayload):
    """An agent asks the duty supervisor for help with, or hands over, a difficult caller."""

    escalation_id: str
    kind: EscalationKind
    reason: EscalationReason
    agent_id: str
    call_id: str | None = None
    ticket_id: str | None = None
    note: str | None = None
    requested_at: datetime


@event("brightline.intake.escalation.resolved.v1", topic=INTAKE_ESCALATIONS, key="escalation_id")
class EscalationResolvedV1(EventPayload):
    """The supervisor accepted, took over the caller, marked the number as harassing, or
    declined (with the reason the agent is told)."""

    escalation_id: str
    outcome: EscalationOutcome
    supervisor_id: str
    resolved_at: datetime
    # Added compatibly: events written before it carry none. Always given with a decline.
    reason: str | None = None


@event("brightline.intake.ticket.milestone-recorded.v1", topic=INTAKE_TICKETS, key="ticket_id")
class TicketMilestoneRecordedV1(EventPayload):
    """A fact of a service request happened: staff arrived, the written reply went out, the meter
    was handled, the connection accepted with contract, or energised."""

    ticket_id: str
    ticket_type: TicketType
    service_subtype: ServiceSubtype | None
    milestone: ServiceMilestone
    occurred_at: datetime = Field(description="When it happened (not when it was recorded)")
    recorded_at: datetime
    recorded_by: str
