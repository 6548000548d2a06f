"""A loop that waits for a wake-up with a deadline ends when it is cancelled, even when the
cancellation arrives just as the wake-up does (asyncio.wait_for on Python 3.11 loses it)."""

import asyncio
import sys

import pytest

from brightline.platform.waiting import wait_event


async def _cancelled_as_woken(wait) -> bool:
    event = asyncio.Event()

    async def loop() -> None:
        while True:
            await wait(event, 30)
            event.clear()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)  # the loop waits
    event.set()
    await asyncio.sleep(0)  # the wake-up is under way, not yet seen by the loop
    task.cancel()
    await asyncio.wait([task], timeout=2)
    ended = task.done()
    task.cancel()
    await asyncio.wait([task], timeout=2)
    return ended


async def test_a_cancellation_arriving_with_the_wake_up_ends_the_loop():
    assert await _cancelled_as_woken(wait_event)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12's wait_for keeps the cancellation")
async def test_wait_for_of_this_python_loses_it():
    """Why wait_event exists: the same race through asyncio.wait_for runs on."""

    async def with_wait_for(event: asyncio.Event, seconds: float) -> None:
        await asyncio.wait_for(event.wait(), seconds)

    assert not await _cancelled_as_woken(with_wait_for)
