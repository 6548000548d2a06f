"""Events owned by the repair dispatch service."""

from datetime import datetime

from brightline.contracts.events.common import AreaClass
from brightline.contracts.registry import EventPayload, event
from brightline.contracts.topics import DISPATCH_WORK_ORDERS


@event("brightline.dispatch.work-order.created.v1", topic=DISPATCH_WORK_ORDERS, key="work_order_id")
class WorkOrderCreatedV1(EventPayload):
    """A repair work order created from a repair ticket and routed to a repair unit."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    area_class: AreaClass
    created_at: datetime
