"""Events intake reacts to: dispatch's outages and work orders (repeat-call linking, the caller
card), callback's reopen requests for intake-owned tickets, and casework's case life (intake's
copy of a complaint, report, opinion, suggestion or praise follows its case)."""

from brightline.contracts import Event
from brightline.contracts.topics import (
    CALLBACK_TASKS,
    CASEWORK_CASES,
    DISPATCH_OUTAGES,
    DISPATCH_PLANNED_OUTAGES,
    DISPATCH_WORK_ORDERS,
    SLA_DEADLINES,
)
from brightline.intake import handlers, planned_outages
from brightline.intake.adapters.repository import (
    FINISHED_ORDER_STATES,
    OutageRepository,
    TicketRepository,
)
from brightline.intake.domain import commands
from brightline.messaging import Route, UnitOfWork


async def on_outage_declared(event: Event, uow: UnitOfWork) -> None:
    await OutageRepository(uow.session).declare(event.payload())


async def on_outage_updated(event: Event, uow: UnitOfWork) -> None:
    await OutageRepository(uow.session).update(event.payload())


async def on_outage_restored(event: Event, uow: UnitOfWork) -> None:
    p = event.payload()
    await OutageRepository(uow.session).restore(p)
    tickets = TicketRepository(uow.session)
    # Every ticket of the incident closes: its repairs and the consultations linked to it.
    for ticket_id in p.ticket_ids:
        await tickets.close_repair(ticket_id)
        await tickets.close_linked(ticket_id, p.restored_at)


async def on_outage_cancelled(event: Event, uow: UnitOfWork) -> None:
    await OutageRepository(uow.session).cancel(event.payload())


async def on_linked_ticket_released(event: Event, uow: UnitOfWork) -> None:
    p = event.payload()
    await TicketRepository(uow.session).close_linked(p.ticket_id, p.released_at)


async def on_work_order_created(event: Event, uow: UnitOfWork) -> None:
    p = event.payload()
    if p.reopened_from_work_order_id:
        await TicketRepository(uow.session).reopen_for_work(p.ticket_id)
    await OutageRepository(uow.session).upsert_work_order(
        work_order_id=p.work_order_id,
        ticket_id=p.ticket_id,
        unit_id=p.unit_id,
        status="created",
        at=p.created_at,
    )


async def on_work_order_status_changed(event: Event, uow: UnitOfWork) -> None:
    p = event.payload()
    await OutageRepository(uow.session).upsert_work_order(
        work_order_id=p.work_order_id,
        ticket_id=p.ticket_id,
        unit_id=p.unit_id,
        status=p.status,
        at=p.changed_at,
        crew_id=p.crew_id,
    )
    if p.status in FINISHED_ORDER_STATES:
        await TicketRepository(uow.session).close_repair(p.ticket_id)


async def on_work_order_returned(event: Event, uow: UnitOfWork) -> None:
    p = event.payload()
    await OutageRepository(uow.session).upsert_work_order(
        work_order_id=p.work_order_id,
        ticket_id=p.ticket_id,
        unit_id=p.unit_id,
        status="returned",
        at=p.returned_at,
    )
    tickets = TicketRepository(uow.session)
    await tickets.close_repair(p.ticket_id)
    # A linked consultation that dispatch reopened as an order of its own closes with it.
    await tickets.close_linked(p.ticket_id, p.returned_at)


async def on_arrival_deadline_opened(event: Event, uow: UnitOfWork) -> None:
    p = event.payload()
    if p.subject_type == "work_order" and p.limit_key.startswith("repair.arrival.") and p.ticket_id:
        await OutageRepository(uow.session).set_arrival_deadline(
            work_order_id=p.subject_id,
            ticket_id=p.ticket_id,
            due_at=p.due_at,
            opened_at=p.opened_at,
        )


async def on_reopen_requested(event: Event, uow: UnitOfWork) -> None:
    p = event.payload()
    if p.origin != "intake":  # dispatch and casework reopen their own
        return
    await handlers.reopen_ticket(commands.ReopenTicket(p.ticket_id, p.reason), uow)


async def on_case_status_changed(event: Event, uow: UnitOfWork) -> None:
    p = event.payload()
    await handlers.follow_case(commands.FollowCase(p.ticket_id, p.status, p.changed_at), uow)


TOPICS = [
    DISPATCH_OUTAGES,
    DISPATCH_WORK_ORDERS,
    CALLBACK_TASKS,
    CASEWORK_CASES,
    SLA_DEADLINES,
    DISPATCH_PLANNED_OUTAGES,
]
ROUTES: dict[str, Route] = {
    "brightline.dispatch.outage.declared.v1": on_outage_declared,
    "brightline.dispatch.outage.updated.v1": on_outage_updated,
    "brightline.dispatch.outage.restored.v1": on_outage_restored,
    "brightline.dispatch.outage.cancelled.v1": on_outage_cancelled,
    "brightline.dispatch.linked-ticket.released.v1": on_linked_ticket_released,
    "brightline.dispatch.work-order.created.v1": on_work_order_created,
    "brightline.dispatch.work-order.status-changed.v1": on_work_order_status_changed,
    "brightline.dispatch.work-order.returned.v1": on_work_order_returned,
    "brightline.callback.reopen.requested.v1": on_reopen_requested,
    "brightline.casework.case.status-changed.v1": on_case_status_changed,
    "brightline.sla.deadline.opened.v1": on_arrival_deadline_opened,
    **planned_outages.ROUTES,
}
