from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field


class WorkOrderRead(BaseModel):
    id: str
    ticket_id: str
    unit_id: str
    area_class: str
    status: str
    created_at: datetime
    crew_id: str | None = None
    incident_id: str | None = None
    is_lead: bool = True
    accept_by: datetime | None = None
    updated_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    resolution: str | None = None
    cause: str | None = None
    returned_at: datetime | None = None


class HistoryRead(BaseModel):
    status: str
    previous_status: str
    crew_id: str | None
    actor: str | None
    reason: str | None
    at: datetime
    recorded_at: datetime
    latitude: float | None
    longitude: float | None


class AssignmentUpdate(BaseModel):
    crew_id: str
    reason: str = Field(min_length=1, max_length=500)


# --- service areas, units, crews -----------------------------------------------------------


class ServiceAreaItem(BaseModel):
    area_code: str = Field(min_length=1, max_length=32)
    unit_id: str = Field(min_length=1, max_length=64)
    area_class: Literal["urban", "rural", "remote"]


class ServiceAreaImport(BaseModel):
    areas: list[ServiceAreaItem] = Field(min_length=1, max_length=10000)


class UnitUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class UnitRead(BaseModel):
    unit_id: str
    name: str


class CrewUpdate(BaseModel):
    unit_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class CrewRead(BaseModel):
    crew_id: str
    unit_id: str
    name: str
    on_duty: bool
    latitude: float | None
    longitude: float | None
    position_at: datetime | None
    open_orders: int = 0


class MemberUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class MemberRead(BaseModel):
    member_id: str
    name: str


class ShiftCreate(BaseModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class ShiftRead(BaseModel):
    id: str
    crew_id: str
    starts_at: datetime
    ends_at: datetime


class DutyUpdate(BaseModel):
    on_duty: bool


class PositionUpdate(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    at: AwareDatetime | None = None


# --- topology and outages ----------------------------------------------------------------


class TransformerItem(BaseModel):
    transformer_id: str = Field(min_length=1, max_length=64)
    feeder_id: str | None = Field(None, max_length=64)


class MeterItem(BaseModel):
    meter_no: str = Field(min_length=1, max_length=64)
    transformer_id: str = Field(min_length=1, max_length=64)


class TopologyImport(BaseModel):
    transformers: list[TransformerItem] = Field(default_factory=list, max_length=100000)
    meters: list[MeterItem] = Field(default_factory=list, max_length=500000)


class IncidentRead(BaseModel):
    id: str
    unit_id: str
    status: str
    transformer_id: str | None
    feeder_id: str | None
    latitude: float | None
    longitude: float | None
    radius_m: float | None
    declared_at: datetime
    last_report_at: datetime
    expected_restore_at: datetime | None
    restored_at: datetime | None
    cause: str | None
    lead_work_order_id: str | None
    linked_ticket_ids: list[str] = Field(default_factory=list)


class IncidentCreate(BaseModel):
    """A fault declared from the grid side: on a transformer, a whole feeder, or a place."""

    unit_id: str = Field(min_length=1, max_length=64)
    transformer_id: str | None = Field(None, max_length=64)
    feeder_id: str | None = Field(None, max_length=64)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    radius_m: float | None = Field(None, gt=0, le=50000)
    expected_restore_at: AwareDatetime | None = None
    cause: str | None = Field(None, max_length=500)


class ExpectedRestorationUpdate(BaseModel):
    expected_restore_at: AwareDatetime
    cause: str | None = Field(None, max_length=500)


class RestoreCreate(BaseModel):
    restored_at: AwareDatetime | None = None
    cause: str | None = Field(None, max_length=500)


class RestoreRead(BaseModel):
    incident_id: str
    restored_at: datetime
    finished_work_order_ids: list[str]


# --- mobile ------------------------------------------------------------------------------


class PhotoIn(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: Literal["image/jpeg", "image/png", "image/webp", "image/heic"]
    data_base64: str


class PhotoRead(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


class MobileStep(BaseModel):
    """Body of a crew step. `device_time` may come here or in the X-Device-Time header."""

    device_time: AwareDatetime | None = None


class OnSiteStep(MobileStep):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class ResolveStep(MobileStep):
    cause: str = Field(min_length=1, max_length=500)
    notes: str | None = Field(None, max_length=4000)
    customer_installation: bool = Field(
        False,
        description="The fault lies inside the customer's own installation: close as a paid-service referral",
    )
    photos: list[PhotoIn] = Field(default_factory=list)


class MobilePosition(MobileStep):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class MobileOrderRead(BaseModel):
    id: str
    ticket_id: str
    status: str
    allowed_next: list[str]
    area_class: str
    address: str | None
    description: str | None
    latitude: float | None
    longitude: float | None
    accept_by: datetime | None
    incident_id: str | None
    created_at: datetime
    updated_at: datetime | None
    resolution: str | None
    cause: str | None
    photos: list[PhotoRead] = Field(default_factory=list)


class MobileOrderPage(BaseModel):
    items: list[MobileOrderRead]
    total: int
    limit: int
    offset: int
