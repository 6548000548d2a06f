"""Events dispatch reacts to, translated into commands."""

from brightline.contracts import Event
from brightline.contracts.topics import INTAKE_TICKETS
from brightline.dispatch import handlers
from brightline.dispatch.domain import commands
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging import Route, UnitOfWork


def make_routes(settings: DispatchSettings) -> dict[str, Route]:
    async def on_ticket_recorded(event: Event, uow: UnitOfWork) -> None:
        ticket = event.payload()
        if ticket.ticket_type != "repair":
            return
        await handlers.create_work_order(
            commands.CreateWorkOrder(
                ticket.ticket_id,
                ticket.area_code,
                fault_scope=ticket.fault_scope,
                meter_no=ticket.meter_no,
                latitude=ticket.latitude,
                longitude=ticket.longitude,
                reported_at=ticket.recorded_at,
                address=ticket.address,
                description=ticket.description,
            ),
            uow,
            settings,
        )

    return {"brightline.intake.ticket.recorded.v1": on_ticket_recorded}


TOPICS = [INTAKE_TICKETS]
