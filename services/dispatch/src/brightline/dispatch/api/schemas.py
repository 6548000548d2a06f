from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from brightline.dispatch.domain.model import DispatcherAct
from brightline.platform.validation import CLOCK_SKEW, HappenedAt, Said, near_now, unique_by

# When power is expected back, as callers are told it: not already past, not a typo's year (a
# storm's longest restorations take days, not months).
RestoreEta = Annotated[AwareDatetime, near_now(CLOCK_SKEW, timedelta(days=30))]
# Why a person did something to an order (read by a crew, a customer, an auditor): it must say
# something. Kept trimmed; blank or only spaces is a 422 naming the field.
Reason = Annotated[Said, StringConstraints(max_length=500)]
# An id, code or name another system sends: trimmed, never blank. Spaces alone passed
# min_length=1: a unit "  " named "   " on the board, an incident of unit "   ".
Id = Annotated[Said, StringConstraints(max_length=64)]
AreaCode = Annotated[Said, StringConstraints(max_length=32)]
Name = Annotated[Said, StringConstraints(max_length=200)]


# A list of codes naming each once: a repeat is the sender's mistake (the planned outage's
# duplicate area was dropped without a word), refused with 422 like unique_by's batches.
Distinct = unique_by()


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
    reported_at: datetime | None = Field(
        None, description="The ticket's 受理 time: the arrival clock runs from here"
    )
    arrive_by: datetime | None = None
    reopened_from: str | None = Field(None, description="The earlier order this one reopens")
    needs_routing: bool = False
    cancel_reason: str | None = None
    ticket_no: str | None = None
    area_code: str | None = None
    fault_started_at: datetime | None = Field(
        None, description="When the power went off, as the caller told the 95598 agent"
    )
    notes: str | None = Field(None, description="The crew's notes on the work, with the cause")
    awaiting_review: bool = Field(
        False, description="Returned by the crew and waiting for the dispatcher's review (审核)"
    )
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    sent_back_reason: str | None = Field(
        None,
        description="Why the return was last sent back to the crew (回单退回)",
    )
    cancel_requested: bool = Field(
        False,
        description="The crew asks to cancel the order (申请撤单), with `cancel_reason`: the"
        " dispatcher cancels it or refuses; the order runs on until then",
    )
    cancel_requested_at: datetime | None = None
    cancel_requested_by: str | None = None
    cancel_refused_reason: str | None = Field(
        None, description="Why the dispatcher refused the crew's last request to cancel"
    )
    dispatcher_acts: list[DispatcherAct] = Field(
        [],
        description="What the duty dispatcher may still do with the order: route it to a unit,"
        " give it another crew (until one accepts), cancel it (until the fault is dealt with)",
    )


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
    reason: Reason


class RoutingUpdate(BaseModel):
    """The duty dispatcher routes an order no service area mapped."""

    unit_id: str = Field(min_length=1, max_length=64)
    area_class: Literal["urban", "rural", "remote"]
    reason: Reason


class ReturnApproval(BaseModel):
    """审核通过: the return holds; a note for the record if the reviewer has one."""

    note: str | None = Field(None, max_length=500)


class ReturnSendBack(BaseModel):
    """回单退回: what the return lacks or got wrong, for the crew to put right on site."""

    reason: Reason


class CancelRefusal(BaseModel):
    """The crew's request to cancel does not hold: why the order is needed after all."""

    reason: Reason


class CancelCreate(BaseModel):
    reason: Reason = Field(
        description="Why the order is not needed: read to the customer on the callback"
    )


# --- service areas, units, crews -----------------------------------------------------------


class ServiceAreaItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_code: AreaCode
    unit_id: Id = Field(description="A unit put with PUT /units/{unit_id}")
    area_class: Literal["urban", "rural", "remote"]
    name: Name | None = Field(
        None, description="What callers are told, e.g. 幸福里小区 (not the code)"
    )


class ServiceAreaRead(BaseModel):
    area_code: str
    unit_id: str
    area_class: str
    name: str | None = None


class ServiceAreaImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    areas: Annotated[list[ServiceAreaItem], unique_by("area_code")] = Field(
        min_length=1, max_length=10000
    )


class UnitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name


class UnitRead(BaseModel):
    unit_id: str
    name: str


class CrewUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: Id = Field(description="A unit put with PUT /units/{unit_id}")
    name: Name


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
    model_config = ConfigDict(extra="forbid")

    name: Name


class MemberRead(BaseModel):
    member_id: str
    name: str


# When scheduled work starts (a crew's shift, a planned outage): entered up to a year ahead, or up
# to a month late. A start years off is a typo: a crew rostered for a decade would be offered
# every order of its unit; callers of a planned outage's areas would be told of 2099.
ScheduledStart = Annotated[AwareDatetime, near_now(timedelta(days=30), timedelta(days=366))]
# A duty lasts hours, a day or two on call, never weeks.
LONGEST_SHIFT = timedelta(days=7)


class ShiftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: ScheduledStart
    ends_at: AwareDatetime = Field(
        description=f"After starts_at, at most {LONGEST_SHIFT.days} days later"
    )


class ShiftRead(BaseModel):
    id: str
    crew_id: str
    starts_at: datetime
    ends_at: datetime


class DutyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on_duty: bool


class PositionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    at: HappenedAt | None = Field(
        None,
        description="The tracker's fix; default now. One older than the crew's last is ignored",
    )


# --- topology and outages ----------------------------------------------------------------


# A misspelt key ("transfomers") was ignored: 200, and nothing imported.
class TransformerItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transformer_id: Id
    feeder_id: Id | None = None


class MeterItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meter_no: Id
    transformer_id: Id = Field(description="In this import's transformers, or imported before")


class TopologyImport(BaseModel):
    """Transformers, meters or both: at least one item."""

    model_config = ConfigDict(extra="forbid")

    transformers: Annotated[list[TransformerItem], unique_by("transformer_id")] = Field(
        default_factory=list, max_length=100000
    )
    meters: Annotated[list[MeterItem], unique_by("meter_no")] = Field(
        default_factory=list, max_length=500000
    )


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
    area_code: str | None = None
    confirmed_at: datetime | None = None
    crew_on_site_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    restored_by: str | None = None
    closed_by: str | None = None


class IncidentCreate(BaseModel):
    """A fault declared from the grid side: on a transformer, a whole feeder, or a place."""

    model_config = ConfigDict(extra="forbid")

    unit_id: Id = Field(description="A unit put with PUT /units/{unit_id}")
    transformer_id: Id | None = None
    feeder_id: Id | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    radius_m: float | None = Field(None, gt=0, le=50000)
    expected_restore_at: RestoreEta | None = None
    cause: str | None = Field(None, max_length=500)


class IncidentCancel(BaseModel):
    reason: Reason


class ExpectedRestorationUpdate(BaseModel):
    expected_restore_at: RestoreEta
    cause: str | None = Field(None, max_length=500)


class RestoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    cause: Said = Field(max_length=500)
    notes: str | None = Field(None, max_length=4000)
    customer_installation: bool = Field(
        False,
        description="The fault lies inside the customer's own installation: close as a paid-service referral",
    )
    photos: list[PhotoIn] = Field(default_factory=list)


class CancelStep(MobileStep):
    reason: Reason = Field(
        description="Why the order is not needed: read to the customer on the callback"
    )


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
    ticket_no: str | None = Field(None, description="工单号")
    customer_name: str | None = Field(None, description="Masked until the crew accepts")
    customer_phone: str | None = Field(None, description="Masked until the crew accepts")
    arrive_by: datetime | None = Field(None, description="The arrival deadline")
    notes: str | None = None
    cancel_reason: str | None = None
    awaiting_review: bool = Field(
        False, description="Returned and waiting for the dispatcher's review (审核)"
    )
    sent_back_reason: str | None = Field(
        None,
        description="Why the dispatcher last sent the return back (回单退回): what to put right"
        " before returning the order again",
    )
    cancel_requested: bool = Field(
        False,
        description="The crew's request to cancel (申请撤单) waits for the dispatcher: the order"
        " is the crew's until then",
    )
    cancel_refused_reason: str | None = Field(
        None,
        description="Why the dispatcher refused the crew's last request to cancel (撤单驳回):"
        " the order goes on; cleared when the crew asks again",
    )


class MobileOrderPage(BaseModel):
    items: list[MobileOrderRead]
    total: int
    limit: int
    offset: int
