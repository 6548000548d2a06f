"""Waiting for an asyncio.Event with a deadline, without losing a cancellation; a round of work
every so often for as long as a block runs.

Python 3.11's asyncio.wait_for swallows a cancellation that arrives just as the awaited event
is set: it returns the event's result instead, the cancelled loop goes round again, and the
stop() that cancelled it waits for ever (seen: a test's teardown hung on the audit sealer).
asyncio.timeout keeps the cancellation (CPython gh-86296; 3.12's wait_for is built on it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

log = structlog.get_logger()


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Whether `event` was set within `seconds` (False: the time ran out)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


@contextlib.asynccontextmanager
async def every(
    seconds: float, round_of_work: Callable[[], Awaitable[object]], *, name: str
) -> AsyncIterator[None]:
    """`round_of_work` now and then every `seconds` after the last one ended, in a task named
    `name`, while the block runs (a service's lifespan): state kept in the database, so a
    restart loses no round. A round that fails is logged and the next one comes on time: one bad
    round must not end the rounds for good."""

    async def rounds() -> None:
        while True:
            try:
                await round_of_work()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - see the docstring
                log.warning("round failed", task=name, error=repr(error))
            await asyncio.sleep(seconds)

    task = asyncio.create_task(rounds(), name=name)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
