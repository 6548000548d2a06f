"""Planned outages from the outage management system, and supply interruptions' cause removal and
restoration from the grid side (or a dispatcher): integration API, events to every service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from brightline.calendar.policy import NoPolicyInForce, adopted_book
from brightline.contracts.events.dispatch import (
    PlannedOutageCancelledV1,
    PlannedOutageNoticeBreachedV1,
    PlannedOutageRegisteredV1,
    SupplyCauseRemovedV1,
    SupplyRestoredV1,
)
from brightline.dispatch.adapters.planned import PlannedOutageRepository
from brightline.dispatch.api.schemas import AreaCode, Distinct, Id, ScheduledStart
from brightline.dispatch.domain import planned
from brightline.messaging import UnitOfWorkDep
from brightline.platform import clock
from brightline.platform.auth import (
    DeskOrSystem,
    Integration,
    Principal,
    Role,
    SupervisorOrSystem,
)
from brightline.platform.problems import Problem
from brightline.platform.validation import BusinessMoment, Said, SystemTime

router = APIRouter(prefix="/planned-outages", tags=["planned-outages"])

supply = APIRouter(prefix="/supply-interruptions", tags=["supply-interruptions"])


class PlannedOutageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id = Field(description="The outage management system's id")
    unit_id: Id | None = None
    feeder_id: Id | None = None
    area_codes: Annotated[list[AreaCode], Distinct] = Field(
        min_length=1, max_length=500, description="Each once"
    )
    starts_at: ScheduledStart
    ends_at: AwareDatetime = Field(
        description=f"After starts_at, at most {planned.LONGEST.days} days later"
    )
    announced_at: SystemTime = Field(
        description="When it was announced to the public: not after starts_at, nor in the future"
    )
    reason: Said = Field(max_length=500, description="The work, as told to callers")
    important_customer_ids: list[Id] = Field(default_factory=list, max_length=5000)


class PlannedOutageRead(BaseModel):
    id: str
    unit_id: str | None
    feeder_id: str | None
    area_codes: list[str]
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime
    registered_at: datetime
    reason: str
    status: str
    important_customer_ids: list[str]
    notice_required_days: float
    notice_given_hours: float
    notice_late: bool
    announcement_due_at: datetime


def to_read(o: planned.PlannedOutage) -> PlannedOutageRead:
    return PlannedOutageRead(
        id=o.id,
        unit_id=o.unit_id,
        feeder_id=o.feeder_id,
        area_codes=list(o.area_codes),
        starts_at=o.starts_at,
        ends_at=o.ends_at,
        announced_at=o.announced_at,
        registered_at=o.registered_at,
        reason=o.reason,
        status=o.status,
        important_customer_ids=list(o.important_customer_ids),
        notice_required_days=o.notice.required.total_seconds() / 86400,
        notice_given_hours=o.notice.given.total_seconds() / 3600,
        notice_late=o.notice.late,
        announcement_due_at=o.announcement_due_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PlannedOutageRead)
async def register_planned_outage(
    body: PlannedOutageCreate, uow: UnitOfWorkDep, who: Integration
) -> PlannedOutageRead:
    """Register a planned outage. The notice (starts_at - announced_at) is checked against the
    pack's `outage.planned.notice` (7 days); a late one is published as
    planned-outage.notice-breached with the important customers listed."""
    now = clock.now()
    try:
        try:
            pack = adopted_book().in_force(body.announced_at)
        except NoPolicyInForce as error:
            raise planned.PlannedOutageError("announced_at", str(error)) from None
        notice = pack.parameter("outage.planned.notice")
        outage = planned.register(
            **body.model_dump(exclude={"important_customer_ids", "area_codes"}),
            area_codes=body.area_codes,
            important_customer_ids=body.important_customer_ids,
            notice=notice.as_timedelta(),
            now=now,
        )
    except planned.PlannedOutageError as error:
        raise Problem(
            422,
            "validation-error",
            "Request is not valid",
            str(error),
            errors=[{"field": error.field, "message": str(error)}],
        ) from None
    async with uow:
        if not await PlannedOutageRepository(uow.session).add(outage):
            raise Problem(
                409, "planned-outage-exists", "Already registered", f"{body.id} is registered"
            )
        read = to_read(outage)
        uow.emit(
            PlannedOutageRegisteredV1(
                planned_outage_id=outage.id,
                unit_id=outage.unit_id,
                area_codes=list(outage.area_codes),
                feeder_id=outage.feeder_id,
                starts_at=outage.starts_at,
                ends_at=outage.ends_at,
                announced_at=outage.announced_at,
                registered_at=outage.registered_at,
                reason=outage.reason,
                notice_required_days=read.notice_required_days,
                notice_given_hours=read.notice_given_hours,
                notice_late=read.notice_late,
                important_customer_ids=list(outage.important_customer_ids),
            )
        )
        if outage.notice.late:
            uow.emit(
                PlannedOutageNoticeBreachedV1(
                    planned_outage_id=outage.id,
                    starts_at=outage.starts_at,
                    announced_at=outage.announced_at,
                    due_at=outage.announcement_due_at,
                    notice_required_days=read.notice_required_days,
                    notice_given_hours=read.notice_given_hours,
                    important_customer_ids=list(outage.important_customer_ids),
                    breached_at=outage.announced_at,
                )
            )
        await uow.commit()
    return read


@router.get("", response_model=list[PlannedOutageRead])
async def list_planned_outages(
    uow: UnitOfWorkDep,
    who: DeskOrSystem,
    area_code: Annotated[str | None, Query(max_length=64)] = None,
    ending_after: Annotated[
        BusinessMoment | None, Query(description="with its offset: +08:00 for Beijing time")
    ] = None,
) -> list[PlannedOutageRead]:
    async with uow:
        found = await PlannedOutageRepository(uow.session).find(
            area_code=area_code, ending_after=ending_after
        )
    return [to_read(o) for o in found]


class PlannedOutageCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Said = Field(max_length=500)


@router.post("/{outage_id}/cancel", response_model=PlannedOutageRead)
async def cancel_planned_outage(
    outage_id: str, body: PlannedOutageCancel, uow: UnitOfWorkDep, who: Integration
) -> PlannedOutageRead:
    async with uow:
        repo = PlannedOutageRepository(uow.session)
        outage = await repo.get(outage_id, for_update=True)
        if outage is None:
            raise Problem(404, "not-found", "No such planned outage", f"{outage_id} is unknown")
        if outage.status == "planned":
            await repo.cancel(outage_id)
            uow.emit(
                PlannedOutageCancelledV1(
                    planned_outage_id=outage_id, cancelled_at=clock.now(), reason=body.reason
                )
            )
        cancelled = await repo.get(outage_id)
        assert cancelled is not None, "held under the lock taken above"
        await uow.commit()
    return to_read(cancelled)


class SupplyFact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: SystemTime | None = Field(
        None, description="When it happened, with offset, within the last year; default now"
    )
    area_codes: Annotated[list[AreaCode], Distinct] = Field(
        default_factory=list, max_length=500, description="Each once"
    )


class SupplyFactRead(BaseModel):
    interruption_id: str
    fact: Literal["cause_removed", "restored"]
    at: datetime
    reported_by: Literal["dispatch", "grid"]


async def _supply_fact(
    interruption_id: str,
    body: SupplyFact,
    uow,
    who: Principal,
    fact: Literal["cause_removed", "restored"],
) -> SupplyFactRead:
    at = body.at or clock.now()
    by: Literal["dispatch", "grid"] = "grid" if Role.INTEGRATION in who.roles else "dispatch"
    async with uow:
        if fact == "cause_removed":
            uow.emit(
                SupplyCauseRemovedV1(
                    interruption_id=interruption_id,
                    area_codes=body.area_codes,
                    removed_at=at,
                    reported_by=by,
                )
            )
        else:
            uow.emit(
                SupplyRestoredV1(interruption_id=interruption_id, restored_at=at, reported_by=by)
            )
        await uow.commit()
    return SupplyFactRead(interruption_id=interruption_id, fact=fact, at=at, reported_by=by)


@supply.post("/{interruption_id}/cause-removed", status_code=201, response_model=SupplyFactRead)
async def cause_removed(
    interruption_id: Id, body: SupplyFact, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> SupplyFactRead:
    """The cause of an outage or limitation is removed (an incident id, or the grid side's own
    id): supply must be back within 1 working day (supply.restore, opened at `at`)."""
    return await _supply_fact(interruption_id, body, uow, who, "cause_removed")


@supply.post("/{interruption_id}/restored", status_code=201, response_model=SupplyFactRead)
async def restored(
    interruption_id: Id, body: SupplyFact, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> SupplyFactRead:
    """Supply is back for that interruption (meets supply.restore)."""
    return await _supply_fact(interruption_id, body, uow, who, "restored")


routers = [router, supply]
