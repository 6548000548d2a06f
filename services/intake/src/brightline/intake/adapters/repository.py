"""Tickets in and out of Postgres."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.intake.adapters.orm import ticket_no_seq, tickets
from brightline.intake.domain.model import Ticket


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_number(self, on: datetime) -> str:
        seq = await self.session.scalar(ticket_no_seq.next_value())
        return f"{on:%Y%m%d}{seq:07d}"

    async def add(self, ticket: Ticket) -> None:
        await self.session.execute(
            tickets.insert().values(
                id=ticket.id, no=ticket.no, type=ticket.type, status=ticket.status,
                recorded_at=ticket.recorded_at, first_ask_owner=ticket.first_ask_owner,
                description=ticket.description, details=ticket.details,
            )
        )

    async def get(self, ticket_id: str) -> Ticket | None:
        row = (await self.session.execute(sa.select(tickets).where(tickets.c.id == ticket_id))).first()
        if row is None:
            return None
        return Ticket(id=row.id, no=row.no, type=row.type, status=row.status, recorded_at=row.recorded_at,
                      first_ask_owner=row.first_ask_owner, description=row.description, details=row.details)
