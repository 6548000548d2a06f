"""Waiting for an asyncio.Event with a deadline, without losing a cancellation.

Python 3.11's asyncio.wait_for swallows a cancellation that arrives just as the awaited event
is set: it returns the event's result instead, the cancelled loop goes round again, and the
stop() that cancelled it waits for ever (seen: a test's teardown hung on the audit sealer).
asyncio.timeout keeps the cancellation (CPython gh-86296; 3.12's wait_for is built on it).
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Whether `event` was set within `seconds` (False: the time ran out)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
