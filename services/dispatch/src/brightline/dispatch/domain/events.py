"""Domain events of dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from brightline.contracts.events.dispatch import (
    PromotionReason,
    Resolution,
    WorkOrderStatus,
)

if TYPE_CHECKING:
    from brightline.dispatch.domain.model import WorkOrder


@dataclass(frozen=True)
class WorkOrderCreated:
    order: WorkOrder


@dataclass(frozen=True)
class StatusChanged:
    order: WorkOrder
    status: WorkOrderStatus
    previous_status: WorkOrderStatus
    at: datetime
    actor: str | None
    crew_id: str | None = None
    reason: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Returned:
    order: WorkOrder
    at: datetime
    resolution: Resolution


@dataclass(frozen=True)
class Promoted:
    """A follower stands for itself now: its own crew and its own arrival clock."""

    order: WorkOrder
    at: datetime
    reason: PromotionReason
    incident_id: str | None


# What a dispatch aggregate records; handlers translate each into its integration event.
DomainEvent = WorkOrderCreated | StatusChanged | Returned | Promoted
