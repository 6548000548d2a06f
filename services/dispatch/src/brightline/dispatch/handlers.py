"""Dispatch's use cases as plain functions over a unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brightline.contracts.events.dispatch import WorkOrderCreatedV1
from brightline.dispatch.adapters.repository import WorkOrderRepository
from brightline.dispatch.domain import commands, events
from brightline.dispatch.domain.model import ServiceArea, WorkOrder, route
from brightline.messaging import UnitOfWork

# Calls from an area nobody mapped still get a crew: the city's central unit takes them.
FALLBACK_AREA = ServiceArea("*", "unit-central", "urban")


async def create_work_order(command: commands.CreateWorkOrder, uow: UnitOfWork) -> WorkOrder:
    orders = WorkOrderRepository(uow.session)
    existing = await orders.for_ticket(command.ticket_id)
    if existing:
        return existing
    area = route(command.area_code, await orders.service_areas(), FALLBACK_AREA)
    order = WorkOrder.create(
        id=str(uuid.uuid4()), ticket_id=command.ticket_id, unit_id=area.unit_id,
        area_class=area.area_class, created_at=datetime.now(UTC),
    )
    await orders.add(order)
    publish(order.events, uow)
    return order


def publish(domain_events: list, uow: UnitOfWork) -> None:
    for event in domain_events:
        if isinstance(event, events.WorkOrderCreated):
            o = event.order
            uow.emit(WorkOrderCreatedV1(
                work_order_id=o.id, ticket_id=o.ticket_id, unit_id=o.unit_id,
                area_class=o.area_class, created_at=o.created_at,
            ))


HANDLERS = {
    commands.CreateWorkOrder: create_work_order,
}
