"""Deadlines, open breaches, KPIs (with CSV/XLSX export) and replay over HTTP."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from brightline.calendar import CalendarOutOfRange
from brightline.contracts import Event
from brightline.messaging import UnitOfWorkDep
from brightline.platform import clock
from brightline.platform.auth import Staff, Supervisor
from brightline.platform.problems import Problem
from brightline.platform.validation import BusinessDay, BusinessMoment, HappenedAt, Said, near_now
from brightline.sla_monitor import handlers, kpis
from brightline.sla_monitor.adapters.repository import (
    DeadlineRepository,
    HistoryRepository,
    KpiRepository,
)
from brightline.sla_monitor.domain import commands
from brightline.sla_monitor.domain.deadlines import InvalidTransition
from brightline.sla_monitor.replay import replay, utc_iso
from brightline.sla_monitor.translate import (
    SUPERVISOR_CANCEL,
    SUPERVISOR_MEET,
    SUPERVISOR_OPEN,
    SUPERVISOR_PAUSE,
    SUPERVISOR_RESUME,
)


def book_of(request: Request):
    settings = request.app.state.settings
    return handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))


def tz_of(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.business_timezone)


# ---------------------------------------------------------------- deadlines

router = APIRouter(prefix="/deadlines", tags=["deadlines"])


class LateInputRead(BaseModel):
    input: str = Field(description="meet | cancel | pause | resume")
    at: datetime = Field(description="The input's own business time")
    state: str = Field(description="The deadline's state when the input came")
    reason: str | None = None
    actor: str | None = None


class DeadlineRead(BaseModel):
    id: str
    limit_key: str
    policy: str
    subject_type: str
    subject_id: str
    ticket_id: str | None
    unit_id: str | None = None
    ticket_type: str | None = None
    state: str
    opened_at: datetime
    warn_at: datetime | None
    due_at: datetime | None = Field(
        description="Seconds/minutes/hours limits: opened_at + the span. Day-based limits "
        "(calendar_days, working_days): the same clock time as opened_at, in the business timezone "
        "(Asia/Shanghai), on the n-th (working) day after opened_at's date; the day of opening "
        "never counts, and a ticket opened on a rest day counts from the next working day. E.g. "
        "opened Fri 2026-02-13 16:20, 1 working day: due Sat 2026-02-14 16:20 (a make-up day)."
    )
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    closed_at: datetime | None = None
    paused_since: datetime | None = None
    escalations_sent: list[str] = []
    met_on_time: bool | None = None
    cancel_reason: str | None = None
    error: str | None = None
    next_fire_at: datetime | None = None
    provisional: bool = Field(
        False,
        description="Counted Monday-Friday through a year whose holiday notice is not entered yet; "
        "recomputed when it is (see GET /calendar)",
    )
    breach_retracted_at: datetime | None = Field(
        None,
        description="A breach fired before the input arrived, then taken back: the input's own "
        "time proved the work was done by due_at",
    )
    late_inputs: list[LateInputRead] = Field(
        [],
        description="Inputs that came after the deadline was settled (a second meet, a cancel "
        "of a met deadline): they change nothing, and are kept here, never dropped",
    )


# When a limit opened by hand starts: a matter received earlier, or one that starts later (an
# agreed hour), never a typo's year the calendar cannot count.
OpensAt = Annotated[AwareDatetime, near_now(timedelta(days=30), timedelta(days=90))]


class DeadlineCreate(BaseModel):
    limit_key: str = Field(examples=["bill_query.written_reply"])
    subject_type: str = Field(examples=["ticket"])
    subject_id: str
    ticket_id: str | None = None
    unit_id: str | None = None
    ticket_type: str | None = None
    opened_at: OpensAt | None = Field(
        None,
        description="Defaults to now. With an offset; within the last 30 days (a matter received "
        "earlier) or the next 90 (a limit that starts later, such as an agreed hour)",
    )


PauseReason = Literal["waiting_for_customer", "customer_requested_appointment"]


class DeadlinePause(BaseModel):
    reason: PauseReason = Field(
        description="Why the clock stops; only these, each audited and published as an event"
    )
    note: str | None = Field(None, max_length=200)


class DeadlineClose(BaseModel):
    reason: Said = Field(max_length=200, description="Why; kept on the deadline")
    at: HappenedAt | None = Field(
        None,
        description="When the work was done or the obligation went away; defaults to now. With "
        "an offset, within the last 30 days, not ahead: a supervisor records what has happened",
    )


async def _supervisor_input(uow, request: Request, kind: str, data: dict) -> list:
    """The supervisor's act, logged as an event and applied strictly."""
    event = Event(
        type=kind, source="/brightline/sla_monitor/api", subject=data["subject_id"], data=data
    )
    return await request.app.state.bus.handle(commands.ApplySupervisorAct(event), uow)


def _wake_scheduler(request: Request, changed: list) -> None:
    """Committed: tell the scheduler of a fire time sooner than its next round."""
    wakeup = getattr(request.app.state, "wakeup", None)
    if wakeup is not None:
        for tracked in changed:
            wakeup.notify(tracked.next_fire_at)


@router.get("", response_model=list[DeadlineRead])
async def find_deadlines(
    uow: UnitOfWorkDep,
    staff: Staff,
    subject_id: str | None = None,
    ticket_id: str | None = None,
    state: str | None = None,
) -> list[DeadlineRead]:
    async with uow:
        rows = await DeadlineRepository(uow.session).find(
            subject_id=subject_id, ticket_id=ticket_id, state=state
        )
    return [DeadlineRead.model_validate(dict(r)) for r in rows]


@router.get("/{deadline_id}", response_model=DeadlineRead)
async def get_deadline(deadline_id: str, uow: UnitOfWorkDep, staff: Staff) -> DeadlineRead:
    async with uow:
        rows = await DeadlineRepository(uow.session).find_by_id(deadline_id)
    if not rows:
        raise Problem(404, "deadline-not-found", "No such deadline", f"no deadline {deadline_id}")
    return DeadlineRead.model_validate(dict(rows[0]))


@router.post("", response_model=DeadlineRead, status_code=201)
async def open_deadline(
    body: DeadlineCreate, request: Request, uow: UnitOfWorkDep, who: Supervisor
) -> DeadlineRead:
    """Open a limit by hand (e.g. a written bill query). A date past the official calendar's known
    years is stored as an errored deadline and answered with 422 calendar-out-of-range."""
    opened_at = body.opened_at or clock.now()
    book = book_of(request)
    if body.limit_key not in book.in_force(opened_at).limits:
        raise Problem(
            422,
            "unknown-limit",
            "Unknown limit",
            f"the pack in force has no limit {body.limit_key!r}",
            limits=sorted(book.in_force(opened_at).limits),
        )
    data = body.model_dump(mode="json") | {"at": opened_at.isoformat(), "opened_by": who.subject}
    async with uow:
        repo = DeadlineRepository(uow.session)
        changed = await _supervisor_input(uow, request, SUPERVISOR_OPEN, data)
        if not changed:
            raise Problem(
                409,
                "deadline-exists",
                "Deadline already open",
                f"{body.subject_type} {body.subject_id} already has {body.limit_key}",
            )
        row = (await repo.find_by_id(changed[0].deadline_id))[0]
        await uow.commit()
    _wake_scheduler(request, changed)
    if changed[0].error:
        raise Problem(
            422,
            "calendar-out-of-range",
            "Date outside the official working-day calendar",
            changed[0].error,
            deadline_id=changed[0].deadline_id,
            state="errored",
        )
    return DeadlineRead.model_validate(dict(row))


async def _pause_or_resume(
    deadline_id: str,
    request: Request,
    uow,
    kind: str,
    reason: str | None,
    actor: str | None = None,
    at: datetime | None = None,
) -> DeadlineRead:
    async with uow:
        repo = DeadlineRepository(uow.session)
        tracked = await repo.get(deadline_id, lock=True)
        if tracked is None:
            raise Problem(
                404, "deadline-not-found", "No such deadline", f"no deadline {deadline_id}"
            )
        data = {
            "subject_type": tracked.subject_type,
            "subject_id": tracked.subject_id,
            "limit_key": tracked.limit.key,
            "at": (at or clock.now()).isoformat(),
            "reason": reason,
            "by": actor,
        }
        try:
            changed = await _supervisor_input(uow, request, kind, data)
        except InvalidTransition as error:
            raise Problem(
                409,
                "illegal-transition",
                "The deadline cannot do that now",
                str(error),
                state=tracked.state,
                pausable=tracked.limit.pausable,
            ) from None
        except CalendarOutOfRange as error:
            raise Problem(
                422,
                "calendar-out-of-range",
                "Date outside the official working-day calendar",
                str(error),
            ) from None
        except ValueError as error:  # e.g. a pause before the deadline opened
            raise Problem(
                409, "illegal-transition", "The deadline cannot do that now", str(error)
            ) from None
        row = (await repo.find_by_id(deadline_id))[0]
        await uow.commit()
    _wake_scheduler(request, changed)
    return DeadlineRead.model_validate(dict(row))


@router.post("/{deadline_id}/pause", response_model=DeadlineRead)
async def pause_deadline(
    deadline_id: str, body: DeadlinePause, request: Request, uow: UnitOfWorkDep, who: Supervisor
) -> DeadlineRead:
    """Stop the clock of a pausable limit, with one of the audited reasons. Published as
    brightline.sla.deadline.paused.v1; nothing else (no free-text note) stops a clock."""
    reason = body.reason if not body.note else f"{body.reason}: {body.note}"
    return await _pause_or_resume(deadline_id, request, uow, SUPERVISOR_PAUSE, reason, who.subject)


@router.post("/{deadline_id}/resume", response_model=DeadlineRead)
async def resume_deadline(
    deadline_id: str, request: Request, uow: UnitOfWorkDep, who: Supervisor
) -> DeadlineRead:
    """Restart the clock; published as brightline.sla.deadline.resumed.v1 with the new due time."""
    return await _pause_or_resume(deadline_id, request, uow, SUPERVISOR_RESUME, None, who.subject)


@router.post("/{deadline_id}/meet", response_model=DeadlineRead)
async def meet_deadline(
    deadline_id: str, body: DeadlineClose, request: Request, uow: UnitOfWorkDep, who: Supervisor
) -> DeadlineRead:
    """Record that the work of a deadline was done (e.g. the written reply to a bill query was
    sent), at `at` or now. On time when at <= due_at."""
    return await _pause_or_resume(
        deadline_id, request, uow, SUPERVISOR_MEET, body.reason, who.subject, body.at
    )


@router.post("/{deadline_id}/cancel", response_model=DeadlineRead)
async def cancel_deadline(
    deadline_id: str, body: DeadlineClose, request: Request, uow: UnitOfWorkDep, who: Supervisor
) -> DeadlineRead:
    """The obligation went away (withdrawn, duplicate, opened by mistake); the reason is kept and
    published in brightline.sla.deadline.cancelled.v1."""
    return await _pause_or_resume(
        deadline_id, request, uow, SUPERVISOR_CANCEL, body.reason, who.subject, body.at
    )


# ---------------------------------------------------------------- breaches

breaches = APIRouter(prefix="/breaches", tags=["breaches"])


@breaches.get("", response_model=list[DeadlineRead])
async def open_breaches(
    uow: UnitOfWorkDep, staff: Staff, ticket_id: str | None = None
) -> list[DeadlineRead]:
    """Deadlines past due with the work still not done."""
    async with uow:
        rows = await DeadlineRepository(uow.session).find(ticket_id=ticket_id, state="breached")
    return [DeadlineRead.model_validate(dict(r)) for r in rows]


# ---------------------------------------------------------------- KPIs

kpi_router = APIRouter(prefix="/kpis", tags=["kpis"])
GroupBy = Literal["day", "unit", "ticket_type", "all", "15min", "30min"]


class UnitCallbackMonthRead(BaseModel):
    unit_id: str
    finished: int = Field(description="Tickets due a callback this month to date")
    called_back: int = Field(description="Customers actually reached")
    unreached: int = Field(description="Tickets whose every attempt failed")
    pending: int = Field(description="Tickets whose callback is still to be decided")
    month_to_date: float | None = Field(description="called_back / finished")
    projection: float | None = Field(
        description="Where the month ends: pending callbacks counted as reached in the "
        "proportion the decided ones were"
    )
    alarm: bool = Field(description="The projection is below the pack's callback.rate target")


class CallbackMonthRead(BaseModel):
    month: str
    finished: int
    called_back: int
    unreached: int
    month_to_date: float | None
    projection: float | None = Field(
        description="Where the month ends: pending callbacks counted as reached in the "
        "proportion the decided ones were (month_to_date sags at each day's end)"
    )
    target: float
    alarm: bool
    units: list[UnitCallbackMonthRead] = Field(description="The same figures, unit by unit")


class KpiReport(BaseModel):
    date_from: date
    date_to: date
    group_by: str
    answer_threshold_s: float
    rows: list[dict]
    callback_month: CallbackMonthRead


async def kpi_report(
    uow, book, tz: ZoneInfo, *, start: datetime, end: datetime, group_by: str, month: date
) -> tuple[list[kpis.KpiRow], kpis.CallbackMonth, float]:
    pack = book.in_force(end)
    threshold = pack.limit("call.answer").fixed_span().total_seconds()
    async with uow:
        # Aggregated by Postgres: no call, deadline or rate row is loaded here.
        repo = KpiRepository(uow.session)
        sums = await repo.sums(
            start=start,
            end=end,
            first_day=start.astimezone(tz).date(),
            last_day=(end - timedelta(microseconds=1)).astimezone(tz).date(),
            group_by=group_by,
            tz=tz.key,
            answer_threshold_s=threshold,
        )
        by_unit = await repo.month_callback_sums(month)
    target = pack.target("callback.rate").minimum
    return (
        kpis.rows_from_sums(sums),
        kpis.callback_month_of(by_unit, month=month, target=target),
        threshold,
    )


def _window(
    request: Request, date_from: date | None, date_to: date | None
) -> tuple[date, date, datetime, datetime]:
    tz = tz_of(request)
    today = clock.now().astimezone(tz).date()
    date_to = date_to or today
    date_from = date_from or date_to
    if date_from > date_to:
        raise Problem(422, "bad-window", "date_from is after date_to", f"{date_from} > {date_to}")
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
            raise Problem(
                422,
                "bad-window",
                "Dates must lie between 2000-01-01 and 2100-12-31",
                f"{name}={value}",
                errors=[{"field": name, "message": "out of range"}],
            )
    start = datetime.combine(date_from, time(), tz)
    end = datetime.combine(date_to + timedelta(days=1), time(), tz)
    return date_from, date_to, start, end


@kpi_router.get("", response_model=KpiReport)
async def get_kpis(
    request: Request,
    uow: UnitOfWorkDep,
    who: Supervisor,
    date_from: BusinessDay | None = None,
    date_to: BusinessDay | None = None,
    group_by: GroupBy = "day",
) -> KpiReport:
    """KPIs over business days [date_from, date_to] (default today), grouped by day, unit, ticket
    type, or 15/30-minute interval (service level per interval: the group is the interval's local
    start, e.g. `2026-12-01T09:15:00` Beijing time). Calls carry no unit or ticket type: they fall
    in the `null` group of those groupings; callback rates carry no time: `null` of the intervals.

    The 12-second answer rate is given twice: `answered_within_threshold_of_offered` (over calls
    offered, abandoned ones included; `answered_within_threshold` is the same figure under its old
    name) and `answered_within_threshold_of_answered` (over calls answered). A call answered at
    exactly 12.0 s by the switch's clock is within the limit.

    Planned outages (计划停电) registered in the window: `planned_outage_notices`, of which
    `planned_outage_notice_breaches` were announced less than the pack's `outage.planned.notice`
    (7 days) before they start, and `planned_outage_notice_on_time_rate`. Grouped by their
    registration time and unit; they carry no ticket type (`null` group)."""
    date_from, date_to, start, end = _window(request, date_from, date_to)
    rows, month, threshold = await kpi_report(
        uow,
        book_of(request),
        tz_of(request),
        start=start,
        end=end,
        group_by=group_by,
        month=date_to,
    )
    return KpiReport(
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        answer_threshold_s=threshold,
        rows=[r.as_dict() for r in rows],
        callback_month=CallbackMonthRead.model_validate(month, from_attributes=True),
    )


@kpi_router.get("/export")
async def export_kpis(
    request: Request,
    uow: UnitOfWorkDep,
    who: Supervisor,
    format: Literal["csv", "xlsx"] = Query("csv"),
    date_from: BusinessDay | None = None,
    date_to: BusinessDay | None = None,
    group_by: GroupBy = "day",
) -> Response:
    date_from, date_to, start, end = _window(request, date_from, date_to)
    rows, _, _ = await kpi_report(
        uow,
        book_of(request),
        tz_of(request),
        start=start,
        end=end,
        group_by=group_by,
        month=date_to,
    )
    name = f"sla-kpis-{group_by}-{date_from}-{date_to}"
    table = [[row.as_dict()[c] for c in kpis.COLUMNS] for row in rows]
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(kpis.COLUMNS)
        writer.writerows(["" if v is None else v for v in line] for line in table)
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet), "a new workbook opens on an empty worksheet"
    sheet.title = "KPIs"
    sheet.append(kpis.COLUMNS)
    for line in table:
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


# ---------------------------------------------------------------- replay

replay_router = APIRouter(prefix="/replay", tags=["replay"])


class ReplayReport(BaseModel):
    until: datetime
    events: int
    live_breaches: list[tuple[str, str, str]]
    replayed_breaches: list[tuple[str, str, str]]
    equal: bool


@replay_router.post("/verify", response_model=ReplayReport)
async def verify_replay(
    request: Request,
    uow: UnitOfWorkDep,
    who: Supervisor,
    until: Annotated[BusinessMoment | None, Query(description="with its offset")] = None,
) -> ReplayReport:
    """Rebuild the monitor's state from its logged input events and compare the breaches with the
    live tables: on both sides the breaches and escalations dated by `until` (default now) and not
    retracted."""
    until = until or clock.now()
    async with uow:
        history = await HistoryRepository(uow.session).history()
        live = await DeadlineRepository(uow.session).all_tracked()
    replayed = await replay(history, until, book=book_of(request))
    live_keys = sorted(k for t in live for k in live_breach_keys(t, until))
    # A deadline met late is breached by the event that met it, whenever that came: both sides
    # count the breaches dated by `until`.
    replayed_keys = [k for k in replayed.breaches if datetime.fromisoformat(k[2]) <= until]
    return ReplayReport(
        until=until,
        events=len(history),
        live_breaches=live_keys,
        replayed_breaches=replayed_keys,
        equal=live_keys == replayed_keys,
    )


def live_breach_keys(tracked, until: datetime) -> list[tuple[str, str, str]]:
    """The live tables' breaches and escalations dated by `until` and not retracted."""
    d = tracked.deadline
    if d is None or d.breached_at is None or d.breach_retracted_at is not None:
        return []
    if d.breached_at > until:
        return []
    keys = [(tracked.deadline_id, "breach", utc_iso(d.breached_at))]
    for level in tracked.limit.levels("breach"):
        if level.at in d.escalations_sent and d.due_at + level.delay <= until:
            keys.append((tracked.deadline_id, level.at, utc_iso(d.due_at + level.delay)))
    return keys


routers = [router, breaches, kpi_router, replay_router]
