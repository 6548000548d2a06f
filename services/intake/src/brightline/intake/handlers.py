"""Intake's use cases as plain functions over a unit of work. Entry points commit; these never do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brightline.contracts.events.intake import TicketRecordedV1
from brightline.intake.adapters.repository import TicketRepository
from brightline.intake.domain import commands, events
from brightline.intake.domain.model import Ticket
from brightline.messaging import UnitOfWork


async def record_ticket(command: commands.RecordTicket, uow: UnitOfWork) -> Ticket:
    tickets = TicketRepository(uow.session)
    now = datetime.now(UTC)
    ticket = Ticket.record(
        id=str(uuid.uuid4()), no=await tickets.next_number(now), type=command.ticket_type,
        recorded_at=now, first_ask_owner=command.first_ask_owner, description=command.description,
        details=command.details,
    )
    await tickets.add(ticket)
    publish(ticket.events, uow)
    return ticket


def publish(domain_events: list, uow: UnitOfWork) -> None:
    for event in domain_events:
        if isinstance(event, events.TicketRecorded):
            t = event.ticket
            uow.emit(TicketRecordedV1(
                ticket_id=t.id, ticket_no=t.no, ticket_type=t.type, recorded_at=t.recorded_at,
                first_ask_owner=t.first_ask_owner, description=t.description,
                **{k: v for k, v in t.details.items() if k in TicketRecordedV1.model_fields},
            ))


HANDLERS = {
    commands.RecordTicket: record_ticket,
}
