"""Tickets over HTTP: translate, call the handler, commit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, status

from brightline.intake import handlers
from brightline.intake.adapters.repository import TicketRepository
from brightline.intake.api.schemas import TicketCreate, TicketRead
from brightline.intake.domain.commands import RecordTicket
from brightline.intake.domain.model import MissingFields, Ticket
from brightline.messaging import UnitOfWorkDep
from brightline.messaging.http import IdempotentCommand
from brightline.platform.auth import Allow, Principal, Role
from brightline.platform.problems import Problem

router = APIRouter(prefix="/tickets", tags=["tickets"])

Agent = Annotated[Principal, Depends(Allow(Role.AGENT, Role.SUPERVISOR))]


def to_read(ticket: Ticket) -> TicketRead:
    return TicketRead(
        id=ticket.id, no=ticket.no, ticket_type=ticket.type, status=ticket.status,
        recorded_at=ticket.recorded_at, first_ask_owner=ticket.first_ask_owner,
        description=ticket.description, details=ticket.details,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TicketRead)
async def record_ticket(
    body: TicketCreate,
    uow: UnitOfWorkDep,
    agent: Agent,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
):
    """Record a ticket of any 95598 type; the calling agent becomes its first-ask owner."""
    async with uow, IdempotentCommand(uow, "tickets.record", idempotency_key, body.model_dump(mode="json")) as once:
        if once.replayed:
            return once.response
        details = body.model_dump(mode="json", exclude={"ticket_type", "description"}, exclude_none=True)
        try:
            ticket = await handlers.record_ticket(
                RecordTicket(body.ticket_type, body.description, agent.subject, details), uow
            )
        except MissingFields as error:
            raise Problem(
                422, "missing-fields", "Required fields are missing", str(error),
                errors=[{"field": f, "message": "required for " + error.ticket_type} for f in error.fields],
            ) from error
        return await once.respond(201, to_read(ticket).model_dump(mode="json"))


@router.get("/{ticket_id}", response_model=TicketRead)
async def get_ticket(ticket_id: str, uow: UnitOfWorkDep, agent: Agent) -> TicketRead:
    async with uow:
        ticket = await TicketRepository(uow.session).get(ticket_id)
    if ticket is None:
        raise Problem(404, "not-found", "No such ticket", f"ticket {ticket_id} does not exist")
    return to_read(ticket)


routers = [router]
