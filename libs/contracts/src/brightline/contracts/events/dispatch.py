"""Events owned by the repair dispatch service."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from brightline.contracts.events.common import AreaClass
from brightline.contracts.registry import EventPayload, event
from brightline.contracts.topics import DISPATCH_OUTAGES, DISPATCH_WORK_ORDERS

WorkOrderStatus = Literal[
    "created",
    "assigned",
    "accepted",
    "en_route",
    "on_site",
    "resolved",
    "returned",
    "cancelled",
]


@event("brightline.dispatch.work-order.created.v1", topic=DISPATCH_WORK_ORDERS, key="work_order_id")
class WorkOrderCreatedV1(EventPayload):
    """A repair work order created from a repair ticket and routed to a repair unit."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    area_class: AreaClass
    created_at: datetime


@event(
    "brightline.dispatch.work-order.status-changed.v1",
    topic=DISPATCH_WORK_ORDERS,
    key="work_order_id",
)
class WorkOrderStatusChangedV1(EventPayload):
    """A work order moved along its state machine (assigned, accepted, en route, on site, ...)."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    status: WorkOrderStatus
    previous_status: WorkOrderStatus
    changed_at: datetime
    crew_id: str | None = None
    actor: str | None = None
    reason: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@event(
    "brightline.dispatch.work-order.returned.v1", topic=DISPATCH_WORK_ORDERS, key="work_order_id"
)
class WorkOrderReturnedV1(EventPayload):
    """The crew returned the finished order (回单): the repair is done and a callback is due."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    returned_at: datetime
    resolution: Literal["repaired", "paid_service_referral", "restored_with_outage"]
    cause: str | None = None
    incident_id: str | None = None


@event("brightline.dispatch.outage.declared.v1", topic=DISPATCH_OUTAGES, key="incident_id")
class OutageDeclaredV1(EventPayload):
    """Several 'no power' reports folded into one outage incident of one fault."""

    incident_id: str
    declared_at: datetime
    unit_id: str
    transformer_id: str | None = None
    feeder_id: str | None = None
    area_codes: list[str] = Field(default_factory=list)
    latitude: float | None = None
    longitude: float | None = None
    radius_m: float | None = None
    expected_restore_at: datetime | None = None


@event("brightline.dispatch.outage.updated.v1", topic=DISPATCH_OUTAGES, key="incident_id")
class OutageUpdatedV1(EventPayload):
    """An incident's expected restoration time or linked tickets changed."""

    incident_id: str
    updated_at: datetime
    expected_restore_at: datetime | None = None
    linked_ticket_ids: list[str] = Field(default_factory=list)
    cause: str | None = None


@event("brightline.dispatch.outage.restored.v1", topic=DISPATCH_OUTAGES, key="incident_id")
class OutageRestoredV1(EventPayload):
    """Power is back: every linked order is resolved at once and each ticket goes to callback."""

    incident_id: str
    restored_at: datetime
    ticket_ids: list[str]
