"""The working-day calendar's horizon, and the reload after a new year's notice is entered."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from brightline.calendar import (
    HolidayFileError,
    current_holiday_file,
    known_until,
    package_years,
    reload_holiday_file,
)
from brightline.messaging import UnitOfWorkDep
from brightline.platform import clock
from brightline.platform.problems import Problem
from brightline.sla_monitor import handlers, metrics
from brightline.sla_monitor.adapters.repository import DeadlineRepository
from brightline.sla_monitor.api.routes import Staff, Supervisor, tz_of

router = APIRouter(prefix="/calendar", tags=["calendar"])


class CalendarRead(BaseModel):
    known_until: date = Field(description="Last day whose working-day status is known")
    days_left: int = Field(description="Days from today (business date) to known_until")
    horizon_warning: bool = Field(
        description=f"True from {metrics.HORIZON_WARNING_DAYS} days before known_until: enter the "
        "next year's State Council notice in the holiday file"
    )
    package_years: tuple[int, int] = Field(description="Years the chinesecalendar package knows")
    file_years: list[int] = Field(description="Years the operator's holiday file decides")
    holiday_file: str
    provisional_deadlines: int = Field(
        description="Running deadlines counted Monday-Friday through an unknown year"
    )
    message: str | None = None


class CalendarReloaded(CalendarRead):
    changed: bool
    recomputed: list[str] = Field(description="Ids of the deadlines whose due time moved")


def horizon(today: date) -> tuple[date, int, bool, str | None]:
    until = known_until()
    days_left = (until - today).days
    warning = days_left <= metrics.HORIZON_WARNING_DAYS
    message = None
    if warning:
        message = (
            f"the working-day calendar ends on {until.isoformat()} ({days_left} days): enter the "
            f"State Council's {until.year + 1} holiday notice in the holiday file; deadlines "
            "counted into that year are provisional until then"
        )
    return until, days_left, warning, message


async def calendar_status(request: Request, uow) -> dict:
    today = clock.now().astimezone(tz_of(request)).date()
    until, days_left, warning, message = horizon(today)
    async with uow:
        provisional = await DeadlineRepository(uow.session).count_provisional()
    metrics.publish_calendar(days_left, provisional)
    holidays = current_holiday_file()
    return dict(
        known_until=until,
        days_left=days_left,
        horizon_warning=warning,
        package_years=package_years(),
        file_years=sorted(holidays.years),
        holiday_file=holidays.origin,
        provisional_deadlines=provisional,
        message=message,
    )


@router.get("", response_model=CalendarRead)
async def get_calendar(request: Request, uow: UnitOfWorkDep, staff: Staff) -> CalendarRead:
    """How far the working-day calendar reaches, and how many deadlines are provisional."""
    return CalendarRead(**await calendar_status(request, uow))


async def reload_and_recompute(runtime_uow, now: datetime) -> tuple[bool, list]:
    """Read the holiday file again; if it changed, recompute every provisional deadline."""
    changed = reload_holiday_file()
    moved: list = []
    if changed:
        async with runtime_uow as uow:
            moved = await handlers.recompute_provisional(
                now, DeadlineRepository(uow.session), uow.emit
            )
            await uow.commit()
    return changed, moved


@router.post("/reload", response_model=CalendarReloaded)
async def reload_calendar(
    request: Request, uow: UnitOfWorkDep, who: Supervisor
) -> CalendarReloaded:
    """Read the holiday file again (after the operator entered a year's notice) and recompute the
    provisional deadlines; each one that moves is published as deadline.rescheduled. The service
    also rereads the file by itself every few seconds."""
    try:
        changed, moved = await reload_and_recompute(uow, clock.now())
    except HolidayFileError as error:
        raise Problem(
            422, "holiday-file-invalid", "The holiday file is refused", str(error)
        ) from None
    wakeup = getattr(request.app.state, "wakeup", None)
    for tracked in moved:
        if wakeup is not None:
            wakeup.notify(tracked.next_fire_at)
    status = await calendar_status(request, request.app.state.runtime.unit_of_work())
    return CalendarReloaded(**status, changed=changed, recomputed=[t.deadline_id for t in moved])


# ---------------------------------------------------------------- the packs in the book

packs_router = APIRouter(prefix="/policy-packs", tags=["policy-packs"])


class LimitRead(BaseModel):
    key: str
    amount: int
    unit: str
    source: str


class PackRead(BaseModel):
    ref: str
    effective_from: date
    effective_from_known: bool = Field(
        description="False: effective_from is a placeholder; the issuing document's date is not known"
    )
    sources: list[str]
    description: str
    limits: list[LimitRead]
    parameters: dict[str, float]


@packs_router.get("", response_model=list[PackRead])
async def list_packs(request: Request, staff: Staff) -> list[PackRead]:
    """The packs adopted (shared with casework and callback), oldest first, with their sources."""
    settings = request.app.state.settings
    book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    return [
        PackRead(
            ref=p.ref,
            effective_from=p.effective_from,
            effective_from_known=p.effective_from_known,
            sources=list(p.sources),
            description=p.description,
            limits=[
                LimitRead(key=k, amount=v.amount, unit=str(v.unit), source=v.source)
                for k, v in sorted(p.limits.items())
            ],
            parameters={k: float(v.value) for k, v in sorted(p.parameters.items())},
        )
        for p in book.packs
    ]
