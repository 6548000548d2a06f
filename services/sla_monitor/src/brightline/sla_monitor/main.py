"""Policy packs, working-day calendar, durable deadline timers, warnings, breaches and KPIs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from fastapi import FastAPI, Request

from brightline.messaging import ServiceRuntime, service_lifespan
from brightline.platform import clock
from brightline.platform.app import create_service_app
from brightline.platform.problems import Problem, problem_response
from brightline.sla_monitor import consumers, handlers, metrics
from brightline.sla_monitor.adapters.repository import DeadlineRepository, KpiRepository
from brightline.sla_monitor.api import calendar as calendar_api
from brightline.sla_monitor.api import routes
from brightline.sla_monitor.domain.policy import NoPolicyInForce
from brightline.sla_monitor.scheduler import Scheduler, Wakeup
from brightline.sla_monitor.settings import SlaMonitorSettings

SERVICE_DIR = Path(__file__).resolve().parents[3]
log = structlog.get_logger()


class StandingConditions:
    """What the gauge loop last said of a standing condition (the calendar's horizon, the
    provisional deadlines, the callback rate's alarm). It is said when it starts or changes,
    not on every refresh: the same warning every 15 s, 240 times an hour, hides the line that
    matters at 3 a.m. The gauges and their alerts carry the condition in between."""

    def __init__(self) -> None:
        self._said: dict[str, object] = {}

    def changed(self, condition: str, value: object) -> bool:
        if condition in self._said and self._said[condition] == value:
            return False
        self._said[condition] = value
        return True


async def refresh_gauges(
    runtime: ServiceRuntime,
    settings: SlaMonitorSettings,
    now: datetime,
    said: StandingConditions,
) -> None:
    """Fold the on-time counts, then recompute the last 24 h's KPIs into the Prometheus gauges."""
    tz = ZoneInfo(settings.business_timezone)
    start, end = metrics.window_ending(now)
    book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    async with runtime.unit_of_work() as uow:
        await KpiRepository(uow.session).fold()
        await uow.commit()
    rows, month, _ = await routes.kpi_report(
        runtime.unit_of_work(),
        book,
        tz,
        start=start,
        end=end,
        group_by="all",
        month=now.astimezone(tz).date(),
    )
    from brightline.sla_monitor.kpis import KpiRow

    metrics.publish(rows[0] if rows else KpiRow(group="all"), month)
    if said.changed("callback rate alarm", (month.month, month.alarm)) and month.alarm:
        log.warning(
            "callback rate projection below target",
            month=month.month,
            projection=month.projection,
            target=month.target,
        )


async def watch_calendar(
    runtime: ServiceRuntime,
    settings: SlaMonitorSettings,
    wakeup,
    said: StandingConditions,
) -> None:
    """Reread the holiday file; when a year's notice was entered, recompute provisional deadlines.
    Then publish the calendar's horizon and the provisional count."""
    now = clock.now()
    try:
        changed, moved = await calendar_api.reload_and_recompute(runtime.unit_of_work(), now)
    except calendar_api.HolidayFileError:
        log.exception("holiday file refused; the previous one stays in force")
        changed, moved = False, []
    if changed:
        log.info("holiday file changed", recomputed=len(moved))
    for tracked in moved:
        wakeup.notify(tracked.next_fire_at)
    _, days_left, warning, message = calendar_api.horizon(
        now.astimezone(ZoneInfo(settings.business_timezone)).date()
    )
    async with runtime.unit_of_work() as uow:
        provisional = await DeadlineRepository(uow.session).count_provisional()
    metrics.publish_calendar(days_left, provisional)
    if said.changed("calendar horizon", message) and warning:
        log.warning("working-day calendar horizon", message=message)
    if said.changed("provisional deadlines", provisional) and provisional:
        log.error("provisional deadlines running", count=provisional)


def calendar_warning(settings: SlaMonitorSettings) -> str | None:
    today = clock.now().astimezone(ZoneInfo(settings.business_timezone)).date()
    return calendar_api.horizon(today)[3]


async def _gauge_loop(runtime: ServiceRuntime, settings: SlaMonitorSettings, wakeup) -> None:
    said = StandingConditions()
    while True:
        try:
            await watch_calendar(runtime, settings, wakeup, said)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - metrics must never take the service down
            log.exception("calendar watch failed")
        try:
            await refresh_gauges(runtime, settings, clock.now(), said)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - metrics must never take the service down
            log.exception("kpi gauge refresh failed")
        await asyncio.sleep(settings.kpi_refresh_seconds)


def create_app(settings: SlaMonitorSettings | None = None) -> FastAPI:
    settings = settings or SlaMonitorSettings()
    # Load the book now: a malformed pack or a missing pack file fails the start, loudly.
    handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    wakeup = (
        Wakeup()
    )  # consumers and routes tell the scheduler of deadlines due before its next round
    bus = handlers.message_bus(settings, wakeup.notify)
    base = service_lifespan(
        settings,
        service_dir=SERVICE_DIR,
        routes=bus.routes(consumers.TRANSLATORS),
        topics=consumers.TOPICS,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with base(app):
            runtime: ServiceRuntime = app.state.runtime
            scheduler = Scheduler(
                runtime,
                interval=settings.scheduler_interval_seconds,
                batch=settings.scheduler_batch,
                wakeup=wakeup,
            )
            gauges = asyncio.create_task(
                _gauge_loop(runtime, settings, wakeup), name="sla-kpi-gauges"
            )
            if runtime.consumer is not None:
                runtime.consumer.after_commit.append(wakeup.committed)
            if settings.scheduler_enabled:
                scheduler.start()
            app.state.scheduler = scheduler
            try:
                yield
            finally:
                await scheduler.stop()
                gauges.cancel()
                try:
                    await gauges
                except asyncio.CancelledError:
                    pass

    app = create_service_app(
        settings,
        title="Brightline SLA monitor",
        description="Policy packs, working-day calendar, durable deadline timers, warnings, breaches and KPIs.",
        routers=[*routes.routers, calendar_api.router, calendar_api.packs_router],
        lifespan=lifespan,
    )
    app.state.bus = bus
    app.state.wakeup = wakeup
    app.state.readiness_warnings["calendar"] = lambda: calendar_warning(settings)

    @app.exception_handler(NoPolicyInForce)
    async def no_policy_in_force(request: Request, error: NoPolicyInForce):
        # A date before every adopted pack: the caller asked about a time we made no promise for.
        return problem_response(
            Problem(422, "no-policy-in-force", "No policy pack applies to that date", str(error)),
            request,
        )

    return app
