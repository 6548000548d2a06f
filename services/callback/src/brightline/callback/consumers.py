"""Events callback reacts to, translated into commands: every finished ticket opens a callback
task with its owning service as origin; intake's ticket record tells whom to call."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from brightline.callback import handlers
from brightline.callback.domain import commands
from brightline.callback.domain.model import CallbackPolicy
from brightline.contracts import Event
from brightline.contracts.topics import CASEWORK_CASES, DISPATCH_WORK_ORDERS, INTAKE_TICKETS
from brightline.messaging import Route, UnitOfWork
from brightline.platform import clock


async def on_ticket_recorded(event: Event, uow: UnitOfWork) -> None:
    ticket = event.payload()
    await handlers.remember_contact(
        commands.RememberContact(
            ticket_id=ticket.ticket_id,
            ticket_type=ticket.ticket_type,
            phone=ticket.phone,
            caller_name=ticket.caller_name,
            area_code=ticket.area_code,
            anonymous=ticket.anonymous,
            recorded_at=ticket.recorded_at,
        ),
        uow,
        now=clock.now(),
    )


async def on_ticket_completed(
    event: Event, uow: UnitOfWork, *, policy: CallbackPolicy, tz: ZoneInfo
) -> None:
    done = event.payload()
    if not done.callback_due:
        return  # the rules say this outcome is not called back
    await handlers.open_callback_task(
        commands.OpenCallbackTask(
            ticket_id=done.ticket_id,
            ticket_type=done.ticket_type,
            origin="intake",
            unit_id=done.unit_id,
            finished_at=done.completed_at,
            finish_ref=f"intake:{done.ticket_id}:{done.completed_at.isoformat()}",
            phone=done.phone,
            result=done.answer,
        ),
        uow,
        policy=policy,
        tz=tz,
        now=clock.now(),
    )


async def on_work_order_returned(
    event: Event, uow: UnitOfWork, *, policy: CallbackPolicy, tz: ZoneInfo
) -> None:
    order = event.payload()
    await handlers.open_callback_task(
        commands.OpenCallbackTask(
            ticket_id=order.ticket_id,
            ticket_type="repair",
            origin="dispatch",
            unit_id=order.unit_id,
            finished_at=order.returned_at,
            incident_id=order.incident_id,
            finish_ref=f"dispatch:{order.work_order_id}:{order.returned_at.isoformat()}",
        ),
        uow,
        policy=policy,
        tz=tz,
        now=clock.now(),
    )


async def on_linked_ticket_released(
    event: Event, uow: UnitOfWork, *, policy: CallbackPolicy, tz: ZoneInfo
) -> None:
    """A repeat-call consultation linked to a repair or an outage is done with that work: it
    joins the callback like the repair itself (dispatch reopens it if the caller is unsatisfied)."""
    link = event.payload()
    await handlers.open_callback_task(
        commands.OpenCallbackTask(
            ticket_id=link.ticket_id,
            ticket_type="consultation",
            origin="dispatch",
            unit_id=link.unit_id,
            finished_at=link.released_at,
            incident_id=link.incident_id,
            finish_ref=f"dispatch-link:{link.ticket_id}:{link.released_at.isoformat()}",
        ),
        uow,
        policy=policy,
        tz=tz,
        now=clock.now(),
    )


async def on_case_status_changed(
    event: Event, uow: UnitOfWork, *, policy: CallbackPolicy, tz: ZoneInfo
) -> None:
    case = event.payload()
    if case.status != "answered":
        return
    await handlers.open_callback_task(
        commands.OpenCallbackTask(
            ticket_id=case.ticket_id,
            ticket_type=case.case_type,
            origin="casework",
            unit_id=case.department_id,
            finished_at=case.changed_at,
            finish_ref=f"casework:{case.case_id}:{case.changed_at.isoformat()}",
            result=case.note,  # the answer given to the customer
        ),
        uow,
        policy=policy,
        tz=tz,
        now=clock.now(),
    )


TOPICS = [INTAKE_TICKETS, DISPATCH_WORK_ORDERS, CASEWORK_CASES]


def routes(policy: CallbackPolicy, tz: ZoneInfo) -> dict[str, Route]:
    return {
        "brightline.intake.ticket.recorded.v1": on_ticket_recorded,
        "brightline.intake.ticket.completed.v1": partial(on_ticket_completed, policy=policy, tz=tz),
        "brightline.dispatch.work-order.returned.v1": partial(
            on_work_order_returned, policy=policy, tz=tz
        ),
        "brightline.dispatch.linked-ticket.released.v1": partial(
            on_linked_ticket_released, policy=policy, tz=tz
        ),
        "brightline.casework.case.status-changed.v1": partial(
            on_case_status_changed, policy=policy, tz=tz
        ),
    }
