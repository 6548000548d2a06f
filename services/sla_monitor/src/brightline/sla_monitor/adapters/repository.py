"""Deadlines in Postgres."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.sla_monitor.adapters.orm import deadlines


class DeadlineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, subject_type: str, subject_id: str, limit_key: str) -> bool:
        return bool(await self.session.scalar(sa.select(sa.func.count()).select_from(deadlines).where(
            deadlines.c.subject_type == subject_type, deadlines.c.subject_id == subject_id,
            deadlines.c.limit_key == limit_key,
        )))

    async def add(self, *, deadline, subject_type: str, subject_id: str) -> None:
        await self.session.execute(deadlines.insert().values(
            id=deadline.deadline_id, limit_key=deadline.limit.key, policy=deadline.policy,
            subject_type=subject_type, subject_id=subject_id, ticket_id=deadline.ticket_id,
            state=str(deadline.state), opened_at=deadline.opened_at, warn_at=deadline.warn_at,
            due_at=deadline.due_at,
        ))

    async def find(self, *, subject_id: str | None = None, ticket_id: str | None = None) -> list:
        query = sa.select(deadlines).order_by(deadlines.c.opened_at)
        if subject_id:
            query = query.where(deadlines.c.subject_id == subject_id)
        if ticket_id:
            query = query.where(deadlines.c.ticket_id == ticket_id)
        return list((await self.session.execute(query)).mappings().all())
