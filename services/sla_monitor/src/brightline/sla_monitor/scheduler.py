"""The timer loop: fires warnings, breaches and escalations that have come due.

Each round takes a batch of due rows with SELECT ... FOR UPDATE SKIP LOCKED
(ordered by the indexed next_fire_at), advances them, writes the new state and
the events to the outbox in one transaction. A crash before commit loses
nothing (the rows are still due); after commit the stored state says the
point fired, so a restart never fires it again. Several instances may run
the loop: SKIP LOCKED gives each row to one of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from brightline.messaging import ServiceRuntime
from brightline.sla_monitor import handlers
from brightline.sla_monitor.adapters.repository import DeadlineRepository

log = structlog.get_logger()


def utcnow() -> datetime:
    return datetime.now(UTC)


async def run_once(runtime: ServiceRuntime, now: datetime, *, batch: int = 200) -> int:
    """One round; returns how many deadlines moved (a full batch means: go again)."""
    async with runtime.unit_of_work() as uow:
        moved = await handlers.tick(now, DeadlineRepository(uow.session), uow.emit, batch=batch)
        await uow.commit()
    return moved


class Scheduler:
    def __init__(self, runtime: ServiceRuntime, *, interval: float, batch: int = 200,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.runtime = runtime
        self.interval = interval
        self.batch = batch
        self.clock = clock
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sla-scheduler")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _loop(self) -> None:
        while True:
            try:
                while await run_once(self.runtime, self.clock(), batch=self.batch) >= self.batch:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - log and try again next round; the rows stay due
                log.exception("sla scheduler round failed")
            await asyncio.sleep(self.interval)
