"""A service's event-loop stalls are observed: a block of the loop shows as one wake-up at
least as late as the block (brightline.platform.loop_lag)."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import REGISTRY

from brightline.platform.loop_lag import watched


def late_over(seconds: str) -> float:
    total = REGISTRY.get_sample_value("brightline_event_loop_lag_seconds_count") or 0.0
    within = (
        REGISTRY.get_sample_value("brightline_event_loop_lag_seconds_bucket", {"le": seconds})
        or 0.0
    )
    return total - within


async def test_a_blocked_loop_is_observed_as_a_late_wake_up():
    before = late_over("0.1")
    async with watched(interval=0.01):
        await asyncio.sleep(0.05)  # the watcher is waiting on its timer
        time.sleep(0.3)  # noqa: ASYNC251 - the stall under test: nothing else runs meanwhile
        await asyncio.sleep(0.05)  # its wake-up, late by the stall, is observed
    assert late_over("0.1") - before >= 1
