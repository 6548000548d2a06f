"""The supervisors' chase (催办) log."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from brightline.console.adapters.orm import chases
from brightline.platform import clock


class ChaseLog:
    """The supervisors' chase (催办) log."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add_chase(
        self,
        *,
        deadline_id: str,
        ticket_id: str | None,
        limit_key: str | None,
        supervisor: str,
        note: str | None,
    ) -> dict:
        row = {
            "id": str(uuid.uuid4()),
            "deadline_id": deadline_id,
            "ticket_id": ticket_id,
            "limit_key": limit_key,
            "supervisor": supervisor,
            "note": note,
            "at": clock.now(),
        }
        async with self.engine.begin() as conn:
            await conn.execute(chases.insert().values(**row))
        return row

    async def chases_for(self, deadline_ids: list[str]) -> dict[str, list[dict]]:
        if not deadline_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        sa.select(chases)
                        .where(chases.c.deadline_id.in_(deadline_ids))
                        .order_by(chases.c.at)
                    )
                )
                .mappings()
                .all()
            )
        found: dict[str, list[dict]] = {}
        for r in rows:
            found.setdefault(r["deadline_id"], []).append(dict(r))
        return found
