"""Events dispatch reacts to, translated into commands."""

from brightline.contracts import Event
from brightline.contracts.topics import INTAKE_TICKETS
from brightline.dispatch import handlers
from brightline.dispatch.domain import commands
from brightline.messaging import Route, UnitOfWork


async def on_ticket_recorded(event: Event, uow: UnitOfWork) -> None:
    ticket = event.payload()
    if ticket.ticket_type != "repair":
        return
    await handlers.create_work_order(commands.CreateWorkOrder(ticket.ticket_id, ticket.area_code), uow)


TOPICS = [INTAKE_TICKETS]
ROUTES: dict[str, Route] = {
    "brightline.intake.ticket.recorded.v1": on_ticket_recorded,
}
