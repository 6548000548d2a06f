from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CreateWorkOrder:
    ticket_id: str
    area_code: str | None
    fault_scope: str | None = None
    meter_no: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    reported_at: datetime | None = None
    address: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class CrewTransition:
    """A crew member moves an order along (from the phone, possibly replayed after being offline)."""

    work_order_id: str
    crew_id: str
    member_id: str
    action: str  # accept | en_route | on_site | resolve | return
    device_time: datetime
    latitude: float | None = None
    longitude: float | None = None
    cause: str | None = None
    notes: str | None = None
    customer_installation: bool = False


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
