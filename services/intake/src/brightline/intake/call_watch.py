"""The watch for lost hangups: a background task of the lifespan that, every
`call_watch_interval_seconds`, gives up the calls still ringing with no word from the switch for
`unanswered_call_limit_seconds` (domain.calls says why). Its state is the calls table, so a
restart loses nothing, and replicas may run it at once: each call is given up under its row
lock, once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog

from brightline.intake.adapters.repository import CallRepository
from brightline.intake.domain import commands
from brightline.intake.settings import IntakeSettings
from brightline.messaging import MessageBus, ServiceRuntime
from brightline.platform import clock

log = structlog.get_logger()

BATCH = 100  # calls looked at a round; a longer backlog is taken in the rounds after


async def give_up_lost_calls(runtime: ServiceRuntime, bus: MessageBus, limit: timedelta) -> int:
    """Give up every call found ringing past `limit`; one transaction per call. Returns how many."""
    async with runtime.unit_of_work() as uow:
        found = await CallRepository(uow.session).ringing_since_before(clock.now() - limit, BATCH)
    given_up = 0
    for call_id in found:
        async with runtime.unit_of_work() as uow:
            if await bus.handle(commands.GiveUpCall(call_id, limit), uow):
                await uow.commit()
                given_up += 1
    return given_up


async def _run(runtime: ServiceRuntime, bus: MessageBus, settings: IntakeSettings) -> None:
    limit = timedelta(seconds=settings.unanswered_call_limit_seconds)
    while True:
        try:
            await give_up_lost_calls(runtime, bus, limit)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - one bad round must not end the watch
            log.warning("lost-hangup watch failed", error=repr(error))
        await asyncio.sleep(settings.call_watch_interval_seconds)


@contextlib.asynccontextmanager
async def watching_calls(
    runtime: ServiceRuntime, bus: MessageBus, settings: IntakeSettings
) -> AsyncIterator[None]:
    task = asyncio.create_task(_run(runtime, bus, settings), name="intake-call-watch")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
