"""How late a service's event loop runs what is due: the longest a request or an event waited
behind other work in the same process (a garbage collection, a relay round serialising its
batch, the audit sealer hashing a second's rows, a consumer building a batch).

A timer asks to be woken every `INTERVAL`; the time it actually woke past that is the loop's
lag, observed in `brightline_event_loop_lag_seconds`. An idle loop's lag is a few hundred
microseconds; a stall shows as one late wake-up as long as the stall.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from prometheus_client import Histogram

INTERVAL = 0.1  # seconds between wake-ups: ten a second cost nothing measurable

LAG = Histogram(
    "brightline_event_loop_lag_seconds",
    "How late the event loop woke a timer (the longest anything waited behind other work)",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)


async def _watch(interval: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        LAG.observe(max(0.0, loop.time() - due))


@contextlib.asynccontextmanager
async def watched(interval: float = INTERVAL) -> AsyncIterator[None]:
    """The running loop's lag observed for as long as the block runs."""
    task = asyncio.create_task(_watch(interval), name="event-loop-lag")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
