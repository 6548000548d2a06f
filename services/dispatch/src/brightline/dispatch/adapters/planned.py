"""The planned_outages table (migration 0003_planned_outages) and its repository."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.dispatch.domain.planned import NoticeCheck, PlannedOutage
from brightline.platform.db import rows_affected

planned_metadata = sa.MetaData()
TZ = sa.DateTime(timezone=True)

planned_outages = sa.Table(
    "planned_outages",
    planned_metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("unit_id", sa.String(64)),
    sa.Column("feeder_id", sa.String(64)),
    sa.Column("area_codes", JSONB, nullable=False),
    sa.Column("starts_at", TZ, nullable=False),
    sa.Column("ends_at", TZ, nullable=False),
    sa.Column("announced_at", TZ, nullable=False),
    sa.Column("registered_at", TZ, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("notice_required_s", sa.Float, nullable=False),
    sa.Column("important_customer_ids", JSONB, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
)


def _from_row(r) -> PlannedOutage:
    return PlannedOutage(
        id=r["id"],
        unit_id=r["unit_id"],
        feeder_id=r["feeder_id"],
        area_codes=tuple(r["area_codes"]),
        starts_at=r["starts_at"],
        ends_at=r["ends_at"],
        announced_at=r["announced_at"],
        registered_at=r["registered_at"],
        reason=r["reason"],
        notice=NoticeCheck(
            required=timedelta(seconds=r["notice_required_s"]),
            given=r["starts_at"] - r["announced_at"],
        ),
        important_customer_ids=tuple(r["important_customer_ids"]),
        status=r["status"],
    )


class PlannedOutageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, outage: PlannedOutage) -> bool:
        result = await self.session.execute(
            insert(planned_outages)
            .values(
                id=outage.id,
                unit_id=outage.unit_id,
                feeder_id=outage.feeder_id,
                area_codes=list(outage.area_codes),
                starts_at=outage.starts_at,
                ends_at=outage.ends_at,
                announced_at=outage.announced_at,
                registered_at=outage.registered_at,
                reason=outage.reason,
                notice_required_s=outage.notice.required.total_seconds(),
                important_customer_ids=list(outage.important_customer_ids),
                status=outage.status,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        return rows_affected(result) == 1

    async def get(self, outage_id: str, *, for_update: bool = False) -> PlannedOutage | None:
        query = sa.select(planned_outages).where(planned_outages.c.id == outage_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return _from_row(row) if row else None

    async def cancel(self, outage_id: str) -> None:
        await self.session.execute(
            planned_outages.update()
            .where(planned_outages.c.id == outage_id)
            .values(status="cancelled")
        )

    async def find(
        self, *, area_code: str | None = None, ending_after: datetime | None = None
    ) -> list[PlannedOutage]:
        query = sa.select(planned_outages).order_by(planned_outages.c.starts_at)
        if area_code:
            query = query.where(planned_outages.c.area_codes.contains([area_code]))
        if ending_after:
            query = query.where(planned_outages.c.ends_at > ending_after)
        return [_from_row(r) for r in (await self.session.execute(query)).mappings()]
