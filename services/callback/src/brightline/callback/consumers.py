"""Events callback reacts to, translated into commands: every finished ticket opens a callback
task with its owning service as origin; intake's ticket record tells whom to call."""

from __future__ import annotations

from datetime import datetime

from brightline.callback.domain import commands
from brightline.contracts import Event
from brightline.contracts.events.dispatch import WorkOrderReturnedV1, WorkOrderStatusChangedV1
from brightline.contracts.topics import (
    consumed_by,
)
from brightline.messaging import only_if

# The resolution a called-off repair is said with (callback_script.yaml repair_results).
CALLED_OFF = "cancelled"


def on_ticket_recorded(event: Event) -> commands.RememberContact:
    ticket = event.payload()
    return commands.RememberContact(
        ticket_id=ticket.ticket_id,
        ticket_type=ticket.ticket_type,
        phone=ticket.phone,
        caller_name=ticket.caller_name,
        area_code=ticket.area_code,
        anonymous=ticket.anonymous,
        recorded_at=ticket.recorded_at,
    )


def on_ticket_completed(event: Event) -> commands.OpenCallbackTask | None:
    done = event.payload()
    if not done.callback_due:
        return None  # the rules say this outcome is not called back
    return commands.OpenCallbackTask(
        ticket_id=done.ticket_id,
        ticket_type=done.ticket_type,
        origin="intake",
        unit_id=done.unit_id,
        finished_at=done.completed_at,
        finish_ref=f"intake:{done.ticket_id}:{done.completed_at.isoformat()}",
        phone=done.phone,
        result=done.answer,
    )


def _repair_finished(
    order: WorkOrderReturnedV1 | WorkOrderStatusChangedV1,
    at: datetime,
    resolution: str,
    cause: str | None,
    incident_id: str | None = None,
) -> commands.OpenCallbackTask:
    """A repair's order finished (returned, or called off): its callback is due."""
    return commands.OpenCallbackTask(
        ticket_id=order.ticket_id,
        ticket_type="repair",
        origin="dispatch",
        unit_id=order.unit_id,
        finished_at=at,
        incident_id=incident_id,
        finish_ref=f"dispatch:{order.work_order_id}:{at.isoformat()}",
        resolution=resolution,
        cause=cause,
    )


def on_work_order_returned(event: Event) -> commands.OpenCallbackTask:
    """A crew's return passed review (回单审核): the matter is done for the centre, as a case is
    when its answer is recorded, so its callback window counts from the review (a return from
    before reviews: from the crew's return)."""
    order = event.payload()
    return _repair_finished(
        order,
        order.reviewed_at or order.returned_at,
        order.resolution,
        order.cause,
        order.incident_id,
    )


def on_work_order_cancelled(event: Event) -> commands.OpenCallbackTask:
    """A repair called off (power back before the crew came, no fault found, a duplicate) closes
    its ticket like a return does, and is called back like one (seed 004 3.4: every accepted
    matter is closed in a loop): the customer hears why and is asked whether the power is on.
    Without it a crew's "not needed" ended the matter unheard and out of the callback rate."""
    order = event.payload()
    return _repair_finished(order, order.changed_at, CALLED_OFF, order.reason)


def _called_off(event: Event) -> bool:
    return event.data.get("status") == "cancelled"


def on_linked_ticket_released(event: Event) -> commands.OpenCallbackTask:
    """A repeat-call consultation linked to a repair or an outage is done with that work: it
    joins the callback like the repair itself (dispatch reopens it if the caller is unsatisfied)."""
    link = event.payload()
    return commands.OpenCallbackTask(
        ticket_id=link.ticket_id,
        ticket_type="consultation",
        origin="dispatch",
        unit_id=link.unit_id,
        finished_at=link.released_at,
        incident_id=link.incident_id,
        finish_ref=f"dispatch-link:{link.ticket_id}:{link.released_at.isoformat()}",
    )


def on_case_status_changed(event: Event) -> commands.OpenCallbackTask | None:
    case = event.payload()
    if case.status != "answered":
        return None
    return commands.OpenCallbackTask(
        ticket_id=case.ticket_id,
        ticket_type=case.case_type,
        origin="casework",
        unit_id=case.department_id,
        finished_at=case.changed_at,
        finish_ref=f"casework:{case.case_id}:{case.changed_at.isoformat()}",
        result=case.note,  # the answer given to the customer
    )


# What this service subscribes to is declared once, in the topic registry (its ACLs too).
TOPICS = consumed_by("callback")


TRANSLATORS = {
    "brightline.intake.ticket.recorded.v1": on_ticket_recorded,
    "brightline.intake.ticket.recorded.v2": on_ticket_recorded,
    "brightline.intake.ticket.completed.v1": on_ticket_completed,
    "brightline.intake.ticket.completed.v2": on_ticket_completed,
    "brightline.dispatch.work-order.returned.v1": on_work_order_returned,
    "brightline.dispatch.work-order.status-changed.v1": only_if(
        _called_off, on_work_order_cancelled
    ),
    "brightline.dispatch.linked-ticket.released.v1": on_linked_ticket_released,
    "brightline.casework.case.status-changed.v1": on_case_status_changed,
}
