"""Work orders and service areas in Postgres."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.dispatch.adapters.orm import service_areas, work_orders
from brightline.dispatch.domain.model import ServiceArea, WorkOrder


class WorkOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, order: WorkOrder) -> None:
        await self.session.execute(work_orders.insert().values(
            id=order.id, ticket_id=order.ticket_id, unit_id=order.unit_id, area_class=order.area_class,
            status=order.status, created_at=order.created_at,
        ))

    async def for_ticket(self, ticket_id: str) -> WorkOrder | None:
        row = (await self.session.execute(sa.select(work_orders).where(work_orders.c.ticket_id == ticket_id))).first()
        return _order(row) if row else None

    async def get(self, order_id: str) -> WorkOrder | None:
        row = (await self.session.execute(sa.select(work_orders).where(work_orders.c.id == order_id))).first()
        return _order(row) if row else None

    async def service_areas(self) -> dict[str, ServiceArea]:
        rows = (await self.session.execute(sa.select(service_areas))).all()
        return {r.area_code: ServiceArea(r.area_code, r.unit_id, r.area_class) for r in rows}


def _order(row) -> WorkOrder:
    return WorkOrder(id=row.id, ticket_id=row.ticket_id, unit_id=row.unit_id, area_class=row.area_class,
                     created_at=row.created_at, status=row.status)
