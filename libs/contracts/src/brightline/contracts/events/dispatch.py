"""Events owned by the repair dispatch service."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from brightline.contracts.events.common import AreaClass
from brightline.contracts.registry import EventPayload, event
from brightline.contracts.topics import (
    DISPATCH_OUTAGES,
    DISPATCH_PLANNED_OUTAGES,
    DISPATCH_WORK_ORDERS,
)

# How a returned order ended; who declared an outage restored; why an order came to lead.
Resolution = Literal["repaired", "paid_service_referral", "restored_with_outage"]
RestoredBy = Literal["lead_crew", "grid", "supervisor"]
PromotionReason = Literal["leads_incident", "incident_cancelled"]
# Why a linked consultation was let go.
ReleaseReason = Literal["work_order_returned", "incident_restored", "work_order_cancelled"]
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
    reported_at: datetime | None = Field(
        None,
        description="When the ticket was recorded (受理): the arrival clock starts here, so queue "
        "lag before dispatch saw the ticket is counted",
    )
    is_lead: bool = Field(
        True,
        description="False for an order folded into an outage incident: it has no arrival clock "
        "of its own, the incident's lead order carries the one clock",
    )
    incident_id: str | None = None
    reopened_from_work_order_id: str | None = Field(
        None, description="The earlier order of the same ticket, reopened after a callback"
    )
    needs_routing: bool = Field(
        False, description="No service area maps the address: waits for the duty dispatcher"
    )


@event("brightline.dispatch.work-order.created.v2", topic=DISPATCH_WORK_ORDERS, key="work_order_id")
class WorkOrderCreatedV2(WorkOrderCreatedV1):
    """A repair work order created from a repair ticket and routed to a repair unit, with the
    status its creating step left it in: offered to a crew at once, it says so here, where v1
    was followed by a status-changed event for that offer (one event a repair, not two)."""

    status: WorkOrderStatus = Field(
        "created", description="The order's status when its creating step ended"
    )
    crew_id: str | None = Field(None, description="The crew it was offered to in that step")
    status_changed_at: datetime | None = Field(
        None, description="When it moved from created to `status` (None: it did not)"
    )
    status_actor: str | None = None
    status_reason: str | None = None
    arrive_by: datetime | None = Field(
        None,
        description="When the crew must be on site: the arrival limit of the pack in force at "
        "`reported_at`, as the SLA monitor counts the clock it opens for a leading order (None "
        "for a follower of an incident: the lead's clock is the one clock)",
    )

    def status_change(self) -> "WorkOrderStatusChangedV1 | None":
        """The status-changed event v1 sent after the created one for this step, for a consumer
        that handles the two apart (None when the order is still `created`)."""
        if self.status == "created" or self.status_changed_at is None:
            return None
        return WorkOrderStatusChangedV1(
            work_order_id=self.work_order_id,
            ticket_id=self.ticket_id,
            unit_id=self.unit_id,
            status=self.status,
            previous_status="created",
            changed_at=self.status_changed_at,
            crew_id=self.crew_id,
            actor=self.status_actor,
            reason=self.status_reason,
        )

    def as_created_v1(self) -> WorkOrderCreatedV1:
        """The creation alone, as v1 said it."""
        return WorkOrderCreatedV1(
            **{name: getattr(self, name) for name in WorkOrderCreatedV1.model_fields}
        )


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
    """The finished order's return (回单) passed review (审核): the repair is done, the ticket
    closes and a callback is due. A crew's return is reviewed by the duty dispatcher first (the
    status change to `returned` says the crew handed it back); an order finished with its
    outage's restoration passes at once."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    returned_at: datetime = Field(description="When the crew handed the order back (回单)")
    resolution: Resolution
    cause: str | None = None
    incident_id: str | None = None
    reviewed_at: datetime | None = Field(
        None, description="When the return passed review (审核); absent before reviews existed"
    )
    reviewed_by: str | None = Field(
        None,
        description="Who passed it: the duty dispatcher, or the one who restored the outage",
    )


@event("brightline.dispatch.outage.declared.v1", topic=DISPATCH_OUTAGES, key="incident_id")
class OutageDeclaredV1(EventPayload):
    """Several 'no power' reports folded into one outage incident of one fault."""

    incident_id: str
    declared_at: datetime
    unit_id: str
    transformer_id: str | None = None
    feeder_id: str | None = None
    area_codes: list[str] = Field(default_factory=list)
    area_names: list[str] = Field(
        default_factory=list, description="Names of those areas, for what callers are told"
    )
    meter_nos: list[str] = Field(
        default_factory=list,
        description="Meters under the faulty equipment (from topology): a repeat call links to "
        "the incident only from one of these, never from the whole area",
    )
    status: str = "suspected"
    latitude: float | None = None
    longitude: float | None = None
    radius_m: float | None = None
    expected_restore_at: datetime | None = None


@event("brightline.dispatch.outage.updated.v1", topic=DISPATCH_OUTAGES, key="incident_id")
class OutageUpdatedV1(EventPayload):
    """An incident's expected restoration time or linked tickets changed.

    Superseded by v2: this one carried every linked ticket on every update, so an incident of
    n reports cost O(n^2) bytes (and as many upserts downstream); still read where the topic's
    history is replayed."""

    incident_id: str
    updated_at: datetime
    expected_restore_at: datetime | None = None
    linked_ticket_ids: list[str] = Field(default_factory=list)
    cause: str | None = None
    status: str | None = Field(
        None, description="suspected | confirmed | crew_on_site (restored/cancelled have events)"
    )


@event("brightline.dispatch.outage.updated.v2", topic=DISPATCH_OUTAGES, key="incident_id")
class OutageUpdatedV2(EventPayload):
    """An incident's expected restoration time, status or cause changed, or tickets joined it.
    Only the tickets this update links are named: the incident's tickets are the union of its
    updates' (events of one incident are ordered), and dispatch's GET /outages/{id} lists them."""

    incident_id: str
    updated_at: datetime
    expected_restore_at: datetime | None = None
    added_ticket_ids: list[str] = Field(
        default_factory=list, description="Tickets linked to the incident by this update"
    )
    cause: str | None = None
    status: str | None = Field(
        None, description="suspected | confirmed | crew_on_site (restored/cancelled have events)"
    )


@event("brightline.dispatch.outage.restored.v1", topic=DISPATCH_OUTAGES, key="incident_id")
class OutageRestoredV1(EventPayload):
    """Power is back: every linked order is resolved at once and each ticket goes to callback."""

    incident_id: str
    restored_at: datetime
    ticket_ids: list[str] = Field(
        description="Every ticket linked to the incident: its orders' and the linked consultations'"
    )
    restored_by: RestoredBy | None = None
    actor: str | None = None


@event(
    "brightline.dispatch.planned-outage.registered.v1",
    topic=DISPATCH_PLANNED_OUTAGES,
    key="planned_outage_id",
)
class PlannedOutageRegisteredV1(EventPayload):
    """A planned outage (计划停电) was registered by the outage management system, with its area,
    window and the time it was announced to the public; the 7-day notice rule was checked."""

    planned_outage_id: str
    unit_id: str | None = None
    area_codes: list[str]
    feeder_id: str | None = None
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime
    registered_at: datetime
    reason: str = Field(description="Why (检修 work), as told to callers")
    notice_required_days: float = Field(description="outage.planned.notice of the pack in force")
    notice_given_hours: float
    notice_late: bool
    important_customer_ids: list[str] = Field(default_factory=list)


@event(
    "brightline.dispatch.planned-outage.cancelled.v1",
    topic=DISPATCH_PLANNED_OUTAGES,
    key="planned_outage_id",
)
class PlannedOutageCancelledV1(EventPayload):
    """A planned outage will not take place."""

    planned_outage_id: str
    cancelled_at: datetime
    reason: str


@event(
    "brightline.dispatch.planned-outage.notice-breached.v1",
    topic=DISPATCH_PLANNED_OUTAGES,
    key="planned_outage_id",
)
class PlannedOutageNoticeBreachedV1(EventPayload):
    """A planned outage was announced later than the notice rule (7 days, 004 第十条(二)10):
    a breach, with the important customers who had to be told."""

    planned_outage_id: str
    starts_at: datetime
    announced_at: datetime
    due_at: datetime = Field(description="The latest the announcement was due: starts_at - notice")
    notice_required_days: float
    notice_given_hours: float
    important_customer_ids: list[str]
    breached_at: datetime


@event(
    "brightline.dispatch.supply.cause-removed.v1",
    topic=DISPATCH_PLANNED_OUTAGES,
    key="interruption_id",
)
class SupplyCauseRemovedV1(EventPayload):
    """The cause of an outage or supply limitation was removed (by the grid side or a crew):
    supply must be restored within 1 working day (004 第十条(二)9)."""

    interruption_id: str = Field(description="An outage incident id, or the grid side's own id")
    area_codes: list[str] = Field(default_factory=list)
    removed_at: datetime
    reported_by: Literal["dispatch", "grid"]


@event(
    "brightline.dispatch.supply.restored.v1", topic=DISPATCH_PLANNED_OUTAGES, key="interruption_id"
)
class SupplyRestoredV1(EventPayload):
    """Supply is back for an interruption whose cause was removed."""

    interruption_id: str
    restored_at: datetime
    reported_by: Literal["dispatch", "grid"]


@event("brightline.dispatch.outage.cancelled.v1", topic=DISPATCH_OUTAGES, key="incident_id")
class OutageCancelledV1(EventPayload):
    """No shared fault after all (e.g. each home's own fault): the orders folded into it are
    released to be repaired one by one, and repeat calls no longer link to it."""

    incident_id: str
    cancelled_at: datetime
    reason: str
    actor: str
    ticket_ids: list[str] = Field(default_factory=list)


@event("brightline.dispatch.linked-ticket.released.v1", topic=DISPATCH_WORK_ORDERS, key="ticket_id")
class LinkedTicketReleasedV1(EventPayload):
    """A repeat-call consultation linked to a repair or an outage is done with the work it was
    linked to (order returned, incident restored): it closes and is due its own callback."""

    ticket_id: str
    released_at: datetime
    reason: ReleaseReason
    unit_id: str | None = None
    work_order_id: str | None = None
    incident_id: str | None = None


@event(
    "brightline.dispatch.work-order.cancel-requested.v1",
    topic=DISPATCH_WORK_ORDERS,
    key="work_order_id",
)
class WorkOrderCancelRequestedV1(EventPayload):
    """申请撤单: the crew finds the order not needed and asks to cancel it, with the reason.
    Nothing closes: the order and its arrival clock run on until the duty dispatcher cancels it
    (status-changed `cancelled`) or refuses (cancel-refused)."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    crew_id: str | None = None
    requested_at: datetime = Field(description="The crew's time (the phone's, checked)")
    actor: str
    reason: str


@event(
    "brightline.dispatch.work-order.cancel-refused.v1",
    topic=DISPATCH_WORK_ORDERS,
    key="work_order_id",
)
class WorkOrderCancelRefusedV1(EventPayload):
    """The duty dispatcher refused the crew's request to cancel, with why: the crew goes on."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    crew_id: str | None = None
    refused_at: datetime
    actor: str
    reason: str


@event("brightline.dispatch.work-order.routed.v1", topic=DISPATCH_WORK_ORDERS, key="work_order_id")
class WorkOrderRoutedV1(EventPayload):
    """An order nobody could route automatically was routed by hand by the duty dispatcher."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    area_class: AreaClass
    routed_at: datetime
    actor: str
    reason: str


@event(
    "brightline.dispatch.work-order.promoted.v1", topic=DISPATCH_WORK_ORDERS, key="work_order_id"
)
class WorkOrderPromotedV1(EventPayload):
    """An order that was folded into an incident (no crew, no clock of its own) now stands for
    itself: it leads the incident after the lead turned out to be its own matter, or the incident
    was cancelled. Its arrival clock starts, counted from its ticket's 受理."""

    work_order_id: str
    ticket_id: str
    unit_id: str
    area_class: AreaClass
    reported_at: datetime
    promoted_at: datetime
    reason: PromotionReason
    incident_id: str | None = None


@event(
    "brightline.dispatch.work-order.promoted.v2", topic=DISPATCH_WORK_ORDERS, key="work_order_id"
)
class WorkOrderPromotedV2(WorkOrderPromotedV1):
    """An order that was folded into an incident (no crew, no clock of its own) now stands for
    itself, with the arrival deadline its clock starts with (counted from its ticket's 受理)."""

    arrive_by: datetime | None = Field(
        None,
        description="When the crew must be on site: the arrival limit of the pack in force at "
        "`reported_at`, as the SLA monitor counts the clock it opens",
    )
