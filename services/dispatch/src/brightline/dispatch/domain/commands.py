from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from brightline.contracts.events.common import AreaClass
from brightline.contracts.events.dispatch import (
    RestoredBy,
)


@dataclass(frozen=True)
class CreateWorkOrder:
    ticket_id: str
    area_code: str | None
    fault_scope: str | None = None
    fault_started_at: datetime | None = None  # when the power went off, as the caller said
    meter_no: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    reported_at: datetime | None = None
    address: str | None = None
    description: str | None = None
    ticket_no: str | None = None
    caller_name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class CrewTransition:
    """A crew member moves an order along (from the phone, possibly replayed after being offline)."""

    work_order_id: str
    crew_id: str
    member_id: str
    action: str  # accept | en_route | on_site | resolve | return | cancel
    device_time: datetime
    latitude: float | None = None
    longitude: float | None = None
    cause: str | None = None
    notes: str | None = None
    customer_installation: bool = False
    reason: str | None = None  # why a cancelled order was not needed
    photos: tuple[tuple[str, str, bytes], ...] = ()  # (filename, content type, bytes) on resolve


@dataclass(frozen=True)
class ExpireAcceptance:
    work_order_id: str
    now: datetime


@dataclass(frozen=True)
class SetExpectedRestoration:
    incident_id: str
    expected_restore_at: datetime
    actor: str
    cause: str | None = None


@dataclass(frozen=True)
class RestoreIncident:
    incident_id: str
    restored_at: datetime
    actor: str
    cause: str | None = None
    restored_by: RestoredBy = "supervisor"


@dataclass(frozen=True)
class DeclareIncident:
    unit_id: str
    actor: str
    transformer_id: str | None = None
    feeder_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: float | None = None
    expected_restore_at: datetime | None = None
    cause: str | None = None


@dataclass(frozen=True)
class CancelIncident:
    incident_id: str
    reason: str
    actor: str


@dataclass(frozen=True)
class CancelWorkOrder:
    work_order_id: str
    reason: str
    actor: str


@dataclass(frozen=True)
class RefuseCancel:
    """The duty dispatcher refuses a crew's request to cancel (申请撤单), with why."""

    work_order_id: str
    reason: str
    actor: str


@dataclass(frozen=True)
class ReviewReturn:
    """The duty dispatcher's review (审核) of a crew's return: passed, or sent back to the crew
    with the reason."""

    work_order_id: str
    approved: bool
    reason: str | None
    actor: str


@dataclass(frozen=True)
class RouteWorkOrder:
    """The duty dispatcher routes an order that no service area mapped."""

    work_order_id: str
    unit_id: str
    area_class: AreaClass
    reason: str
    actor: str


@dataclass(frozen=True)
class ReopenRepair:
    """An unsatisfied callback on a repair (or on a consultation linked to one)."""

    ticket_id: str
    reason: str
    requested_at: datetime


# What a linked repeat call tells about the place and the caller (RecordLink.details): enough for
# the order it becomes if its own work is gone.
LINK_DETAILS = (
    "area_code",
    "address",
    "meter_no",
    "latitude",
    "longitude",
    "ticket_no",
    "caller_name",
    "phone",
    "description",
)


@dataclass(frozen=True)
class RecordLink:
    """Intake linked a repeat call to an incident or a repair ticket."""

    ticket_id: str
    linked_at: datetime
    incident_id: str | None = None
    linked_ticket_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AssignWaiting:
    """Give a crew to an order that came in while none was on duty (the scheduler's scan)."""

    work_order_id: str


@dataclass(frozen=True)
class Reassign:
    """A supervisor moves an order not yet accepted to a crew of their choosing."""

    work_order_id: str
    crew_id: str
    reason: str
    actor: str
