"""Planned outages (计划停电) as intake learns them from dispatch's events: for the caller card,
the greeting's announcement, and to record a call about one as a linked consultation, not a repair.

Intake owns no planned outage: dispatch registers them (from the outage management system) and
publishes them; this is intake's read model of those events (table from migration
0004_planned_outages_seen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

planned_metadata = sa.MetaData()
TZ = sa.DateTime(timezone=True)

planned_outages_seen = sa.Table(
    "planned_outages_seen",
    planned_metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("area_codes", JSONB, nullable=False),
    sa.Column("starts_at", TZ, nullable=False),
    sa.Column("ends_at", TZ, nullable=False),
    sa.Column("announced_at", TZ, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
)


@dataclass(frozen=True)
class PlannedOutage:
    id: str
    area_codes: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime
    reason: str


class PlannedOutageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, p) -> None:
        values = dict(
            area_codes=list(p.area_codes),
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            announced_at=p.announced_at,
            reason=p.reason,
        )
        await self.session.execute(
            insert(planned_outages_seen)
            .values(id=p.planned_outage_id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def cancel(self, outage_id: str) -> None:
        await self.session.execute(
            planned_outages_seen.update()
            .where(planned_outages_seen.c.id == outage_id)
            .values(cancelled=True)
        )

    async def over(self, areas: set[str], *, ending_after: datetime) -> list[PlannedOutage]:
        """Planned outages over any of `areas` not yet over at `ending_after`, soonest first."""
        if not areas:
            return []
        query = (
            sa.select(planned_outages_seen)
            .where(
                planned_outages_seen.c.cancelled.is_(False),
                planned_outages_seen.c.ends_at > ending_after,
                sa.or_(*(planned_outages_seen.c.area_codes.contains([a]) for a in sorted(areas))),
            )
            .order_by(planned_outages_seen.c.starts_at)
        )
        return [
            PlannedOutage(
                r.id,
                tuple(r.area_codes),
                r.starts_at,
                r.ends_at,
                r.announced_at,
                r.reason,
            )
            for r in (await self.session.execute(query)).all()
        ]

    async def in_effect(self, areas: set[str], at: datetime) -> PlannedOutage | None:
        return next((o for o in await self.over(areas, ending_after=at) if o.starts_at <= at), None)


def in_effect_over(area: sa.ColumnElement, at: sa.ColumnElement) -> sa.Select[tuple[str]]:
    """SQL for the id of in_effect({area}, at), for a statement that must not go on if there is
    one and says which."""
    return (
        sa.select(planned_outages_seen.c.id)
        .where(
            planned_outages_seen.c.cancelled.is_(False),
            planned_outages_seen.c.ends_at > at,
            planned_outages_seen.c.starts_at <= at,
            planned_outages_seen.c.area_codes.contains(sa.func.jsonb_build_array(area)),
        )
        .order_by(planned_outages_seen.c.starts_at)
        .limit(1)
    )
