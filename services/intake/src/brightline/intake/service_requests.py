"""服务申请 sub-types with time limits of their own (seed 004 第十条(二)), and their milestones.

A service request names its sub-type when recorded; the SLA monitor opens the sub-type's limit
from the ticket.recorded event (an appointment at the start of the agreed hour; a non-residential
connection only when the installation is accepted and the contract signed). Staff then record
what happened (`milestones`) with the time it happened; each milestone is a real business event
that opens or meets a limit. Which milestone fits which sub-type is data here, not scattered.
"""

from __future__ import annotations

from datetime import datetime

from brightline.calendar.policy import NoPolicyInForce, adopted_book, limit_due
from brightline.contracts.events.common import ServiceMilestone
from brightline.contracts.events.intake import TicketMilestoneRecordedV1
from brightline.intake.adapters.repository import TicketRepository
from brightline.intake.domain.model import IllegalTransition
from brightline.messaging import UnitOfWork
from brightline.platform import clock

# The policy's limit of an agreed hour: staff arrive before it ends (the SLA monitor's clock).
APPOINTMENT_CLOCK = "appointment.arrival"
# sub-type -> milestones that may be recorded on it
MILESTONES: dict[str, tuple[str, ...]] = {
    "appointment": ("arrived",),
    "bill_query_written": ("written_reply_sent",),
    "meter_fault": ("meter_fault_handled",),
    "connection_residential": ("power_connected",),
    "connection_non_residential": ("accepted_with_contract", "power_connected"),
    "other": (),
}


class NotFound(LookupError):
    pass


def problems_of(body) -> list[dict]:
    """Field errors of a ticket body's service-request fields (empty when fine)."""
    errors = []
    subtype = getattr(body, "service_subtype", None)
    if subtype is not None and body.ticket_type != "service_request":
        errors.append(
            {"field": "service_subtype", "message": "only a service_request has a sub-type"}
        )
    appointment_at = getattr(body, "appointment_at", None)
    if subtype == "appointment" and appointment_at is None:
        errors.append(
            {"field": "appointment_at", "message": "an appointment needs the agreed hour's start"}
        )
    if appointment_at is not None and subtype != "appointment":
        errors.append({"field": "appointment_at", "message": "only for an appointment"})
    if appointment_at is not None and (ended := _hour_ended(appointment_at)):
        errors.append({"field": "appointment_at", "message": ended})
    return errors


def _hour_ended(starts: datetime) -> str | None:
    """Why an agreed hour cannot be booked (it has ended), or None. Its length is the policy's
    (`appointment.arrival`): an hour over before the call would open a clock already breached."""
    try:
        limit = adopted_book().limit_for(APPOINTMENT_CLOCK, starts)
    except NoPolicyInForce as error:
        return str(error)
    ends, _ = limit_due(limit, starts)
    now = clock.now()
    if ends <= now:
        return (
            f"the agreed hour ended at {ends.isoformat()} (now {now.isoformat()}): "
            "book an hour still to come or under way"
        )
    return None


async def record_milestone(
    *,
    ticket_id: str,
    milestone: ServiceMilestone,
    occurred_at: datetime | None,
    by: str,
    uow: UnitOfWork,
) -> TicketMilestoneRecordedV1:
    ticket = await TicketRepository(uow.session).get(ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    subtype = ticket.details.get("service_subtype")
    if ticket.type != "service_request" or milestone not in MILESTONES.get(subtype or "", ()):
        raise IllegalTransition(
            f"milestone {milestone!r} does not belong to a {ticket.type} ticket of sub-type "
            f"{subtype!r}; allowed: {list(MILESTONES.get(subtype or '', ()))}"
        )
    # Near now, with its offset, checked at the edge (HappenedAt).
    now = clock.now()
    occurred_at = occurred_at or now
    if occurred_at < ticket.recorded_at and milestone != "arrived":
        raise IllegalTransition("occurred_at is before the ticket was recorded")
    payload = TicketMilestoneRecordedV1(
        ticket_id=ticket.id,
        ticket_type=ticket.type,
        service_subtype=subtype,
        milestone=milestone,
        occurred_at=occurred_at,
        recorded_at=now,
        recorded_by=by,
    )
    uow.emit(payload)
    return payload
