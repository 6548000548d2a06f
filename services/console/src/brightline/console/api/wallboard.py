"""The supervisor's wallboard: one read that gathers the SLA monitor's KPIs (the day's totals and
its 15/30-minute intervals and the month's callback rate with its month-end projection, the
centre's and each unit's, all passed through unchanged), the floor's agents and waiting callers,
and the calendar's horizon."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from brightline.console.api.deps import HubDep, SupervisorCaller, UpstreamDep
from brightline.console.api.routes import _ok, _problem
from brightline.console.domain import wallboard
from brightline.platform import clock

router = APIRouter(prefix="/api/supervisor", tags=["supervisor"])


class Kpis(BaseModel):
    """One group's figures, as the SLA monitor's GET /kpis gives them."""

    group: str | None
    calls_offered: int
    calls_answered: int
    answered_within_threshold_of_offered: float | None
    answered_within_threshold_of_answered: float | None
    average_speed_of_answer_s: float | None
    # Answered → ended over intake's call records (the SLA monitor's definition); None until a
    # monitor that publishes it answers.
    average_handle_time_s: float | None = None
    abandonment_rate: float | None
    arrival_on_time_rate: float | None = None
    complaint_reply_on_time_rate: float | None = None
    report_reply_on_time_rate: float | None = None


class UnitCallbacksRead(BaseModel):
    unit_id: str
    unit_name: str = Field(description="The repair unit's or department's name; its id if unknown")
    finished: int
    called_back: int
    unreached: int
    pending: int
    month_to_date: float | None
    projection: float | None
    alarm: bool


class CallbackMonthRead(BaseModel):
    """The SLA monitor's callback month (GET /kpis callback_month), unit names added."""

    month: str
    target: float
    finished: int
    called_back: int
    unreached: int
    month_to_date: float | None
    projection: float | None
    alarm: bool
    units: list[UnitCallbacksRead]


class CalendarHorizon(BaseModel):
    known_until: date | None
    days_left: int | None
    horizon_warning: bool
    message: str | None


class Floor(BaseModel):
    agents_by_state: dict[str, int]
    waiting: int
    longest_wait_s: float | None


class UpstreamProblem(BaseModel):
    status: int
    type: str
    title: str
    detail: str | None = None
    service: str | None = None


class WallboardRead(BaseModel):
    day: date
    interval: Literal["15min", "30min"]
    answer_threshold_s: float | None
    totals: Kpis | None
    intervals: list[Kpis] | None
    callbacks: CallbackMonthRead | None
    floor: Floor
    calendar: CalendarHorizon | None
    problems: list[UpstreamProblem]


@router.get("/wallboard", response_model=WallboardRead)
async def get_wallboard(
    request: Request,
    caller: SupervisorCaller,
    upstream: UpstreamDep,
    hub: HubDep,
    day: date | None = None,
    interval: Literal["15min", "30min"] = Query("30min"),
) -> dict[str, Any]:
    """The day's service level (default today in the business timezone): totals and each interval
    as the SLA monitor computes them, so the wallboard and GET /kpis never disagree."""
    tz = ZoneInfo(request.app.state.settings.business_timezone)
    day = day or clock.now().astimezone(tz).date()
    totals, per_interval, calendar, units, departments = await asyncio.gather(
        upstream.kpis(caller.token, day, day, "all"),
        upstream.kpis(caller.token, day, day, interval),
        upstream.calendar(caller.token),
        upstream.units(caller.token),
        upstream.departments(caller.token),
        return_exceptions=True,
    )
    # Names are a help, not a condition: a service that does not answer leaves the ids.
    names = {
        **{u["unit_id"]: u["name"] for u in _ok(units) or []},
        **{d["id"]: d["name"] for d in _ok(departments) or []},
    }
    problems = [_problem(x) for x in (totals, per_interval, calendar) if isinstance(x, Exception)]
    board: dict[str, Any] = {
        "day": day,
        "interval": interval,
        "answer_threshold_s": None,
        "totals": None,
        "intervals": None,
        "callbacks": None,
        "calendar": None if isinstance(calendar, Exception) else calendar,
        "problems": problems,
    }
    if not isinstance(totals, Exception):
        board["answer_threshold_s"] = totals["answer_threshold_s"]
        # A day with no call yet has no row: its figures are the empty ones, not an error.
        board["totals"] = next(iter(totals["rows"]), None) or Kpis(
            group=None,
            calls_offered=0,
            calls_answered=0,
            answered_within_threshold_of_offered=None,
            answered_within_threshold_of_answered=None,
            average_speed_of_answer_s=None,
            abandonment_rate=None,
        )
        month = totals["callback_month"]
        board["callbacks"] = {
            **month,
            "units": [
                {**u, "unit_name": names.get(u["unit_id"], u["unit_id"])} for u in month["units"]
            ],
        }
    if not isinstance(per_interval, Exception):
        # Callback rates carry no time of day: the monitor puts them in a `null` interval.
        board["intervals"] = [r for r in per_interval["rows"] if r.get("group") is not None]
    snapshot = (await hub.read()).snapshot(clock.now())
    board["floor"] = {
        "agents_by_state": wallboard.agents_by_state(snapshot["agents"]),
        "waiting": len(snapshot["waiting"]),
        "longest_wait_s": wallboard.longest_wait_s(snapshot["waiting"], clock.now()),
    }
    return board
