"""The timer loop: fires warnings, breaches and escalations that have come due.

Each round takes a batch of due rows with SELECT ... FOR UPDATE SKIP LOCKED
(ordered by the indexed next_fire_at), advances them, writes the new state and
the events to the outbox in one transaction. A crash before commit loses
nothing (the rows are still due); after commit the stored state says the
point fired, so a restart never fires it again. Several instances may run
the loop: SKIP LOCKED gives each row to one of them.

Between rounds the loop sleeps until the earliest pending fire time (min(next_fire_at), read in
the round's transaction), or a sooner one announced by a consumer, capped at `interval`. On
waking it looks at that earliest time first (a read, rolled back) and runs a round only when it
has come.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from brightline.messaging import ServiceRuntime
from brightline.platform import clock
from brightline.platform.waiting import wait_event
from brightline.sla_monitor import handlers
from brightline.sla_monitor.adapters.repository import DeadlineRepository

log = structlog.get_logger()


async def run_round(
    runtime: ServiceRuntime, now: datetime, *, batch: int = 200
) -> tuple[int, datetime | None]:
    """One round: how many deadlines moved (a full batch means: go again) and the earliest fire
    time still pending after it (None: nothing is)."""
    async with runtime.unit_of_work() as uow:
        repo = DeadlineRepository(uow.session)
        moved = await handlers.tick(now, repo, uow.emit, batch=batch)
        next_at = await repo.next_fire_at() if moved < batch else now
        await uow.commit()
    return moved, next_at


async def next_fire_at(runtime: ServiceRuntime) -> datetime | None:
    """The earliest pending fire time, read in a transaction that writes nothing and is rolled
    back: a loop with nothing due neither locks rows nor commits."""
    async with runtime.unit_of_work() as uow:
        return await DeadlineRepository(uow.session).next_fire_at()


async def run_once(runtime: ServiceRuntime, now: datetime, *, batch: int = 200) -> int:
    """One round; returns how many deadlines moved (a full batch means: go again)."""
    moved, _ = await run_round(runtime, now, batch=batch)
    return moved


class Wakeup:
    """Tells a sleeping scheduler about a fire time earlier than the one it planned to wake at.

    Consumers and API routes call `notify(next_fire_at)` for the deadlines they open or change. A
    consumer's notify comes before its transaction commits: for a time already due, the round it
    triggers may not see the row yet. So a round that took a due hint leaves `recheck` set, and the
    consumer's next commit (`committed`, an after-commit hook) asks for one more round. Whatever
    slips through both is found within `interval`, the scheduler's longest sleep."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.hint: datetime | None = None
        self.planned: datetime | None = None  # when the scheduler means to wake; None while it runs
        self.recheck = False

    def take_due_hint(self, now: datetime) -> None:
        """The round about to run is the one a hint due by `now` asked for."""
        if self.hint is not None and self.hint <= now:
            self.hint = None
            self.recheck = True

    def committed(self) -> None:
        if self.recheck:
            self.recheck = False
            self.notify(clock.now())

    def notify(self, at: datetime | None) -> None:
        if at is None:
            return
        if self.hint is None or at < self.hint:
            self.hint = at
        if self.planned is not None and at < self.planned:
            self.planned = at
            self._event.set()

    async def sleep_until(self, planned: datetime, clock: Callable[[], datetime]) -> None:
        """Sleep until `planned`, or the earlier time a notify() names meanwhile."""
        self.planned = planned
        try:
            while (delay := (self.planned - clock()).total_seconds()) > 0:
                self._event.clear()
                if not await wait_event(self._event, delay):
                    return
        finally:
            self.planned = None


class Scheduler:
    """Fires due points. Sleeps until the earliest pending fire time (the table's, or a sooner one a
    consumer announced through `wakeup`), but never longer than `interval` (other instances and
    rows committed without a notify are found that way)."""

    def __init__(
        self,
        runtime: ServiceRuntime,
        *,
        interval: float,
        batch: int = 200,
        clock: Callable[[], datetime] = clock.now,
        wakeup: Wakeup | None = None,
    ) -> None:
        self.runtime = runtime
        self.interval = interval
        self.batch = batch
        self.clock = clock
        self.wakeup = wakeup or Wakeup()
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
            next_at = None
            self.wakeup.take_due_hint(self.clock())
            try:
                at = self.clock()
                # Most wake-ups find nothing due (the cap's, or a notify for a later time): a
                # look at the earliest fire time, and a round only when it has come.
                next_at = await next_fire_at(self.runtime)
                moved = self.batch if next_at is not None and next_at <= at else 0
                while moved >= self.batch:
                    at = self.clock()
                    moved, next_at = await run_round(self.runtime, at, batch=self.batch)
                if next_at is not None and next_at <= at:
                    next_at = None  # due yet not taken: locked by another instance; retry after `interval`
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - log and try again next round; the rows stay due
                log.exception("sla scheduler round failed")
            now = self.clock()
            planned = now + timedelta(seconds=self.interval)
            for candidate in (next_at, self.wakeup.hint):
                if candidate is not None and candidate < planned:
                    planned = candidate
            await self.wakeup.sleep_until(planned, self.clock)
