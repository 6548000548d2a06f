"""Repair work orders. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from brightline.dispatch.domain import events


@dataclass
class WorkOrder:
    id: str
    ticket_id: str
    unit_id: str
    area_class: str
    created_at: datetime
    status: str = "created"
    events: list = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, *, id: str, ticket_id: str, unit_id: str, area_class: str, created_at: datetime) -> "WorkOrder":
        order = cls(id=id, ticket_id=ticket_id, unit_id=unit_id, area_class=area_class, created_at=created_at)
        order.events.append(events.WorkOrderCreated(order))
        return order


@dataclass(frozen=True)
class ServiceArea:
    """Which repair unit serves an area code, and how far out it is (sets the arrival limit)."""

    area_code: str
    unit_id: str
    area_class: str  # urban | rural | remote


def route(area_code: str | None, areas: dict[str, ServiceArea], fallback: ServiceArea) -> ServiceArea:
    return areas.get(area_code or "", fallback)
