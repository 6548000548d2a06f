"""Admission of HTTP requests under overload: a bounded queue in front of the work, and a
deliberate 503 beyond it.

Without it every request that arrives starts at once: in a storm of calls hundreds of requests
share one event loop and one connection pool, each gets a sliver of the CPU, all of them get
slow together, and the ones that wait longest for a pooled connection fail with the pool's
timeout (a 500) while the client's own timeout fires on others. With it at most `limit`
requests are at work (enough to keep the database pool busy, not more), the others wait their
turn first come, first served, and a request is refused with 503 problem+json and Retry-After
only when the queue is full or it waited `wait_seconds` (shorter than the pool's timeout and
than a client's usual 30 s): an answer a client can act on, counted as load shed.
"""

from __future__ import annotations

import asyncio
from collections import deque

from prometheus_client import Counter, Histogram

from brightline.platform.problems import Problem

SHED = Counter(
    "http_requests_shed_total",
    "Requests refused with 503 because the service was overloaded, by reason",
    ["reason"],
)

QUEUED = Histogram(
    "http_admission_wait_seconds",
    "How long requests that found the service busy waited for their turn (shed ones too)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0),
)


class Admission:
    """At most `limit` requests at work and `queue` waiting; none waits longer than
    `wait_seconds`. `enter()` is True when the request may go on (it must `leave()` once)."""

    def __init__(self, limit: int, queue: int, wait_seconds: float) -> None:
        self.limit = limit
        self.queue = queue
        self.wait_seconds = wait_seconds
        self.busy = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> bool:
        if self.busy < self.limit and not self.waiting:
            self.busy += 1
            return True
        if len(self.waiting) >= self.queue:
            SHED.labels("queue-full").inc()
            return False
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self.waiting.append(turn)
        since = loop.time()
        try:
            async with asyncio.timeout(self.wait_seconds):
                await turn
        except TimeoutError:
            QUEUED.observe(loop.time() - since)
            if turn.done() and not turn.cancelled():
                return True  # its turn came as the time ran out
            SHED.labels("waited-too-long").inc()
            self._forget(turn)
            return False
        except asyncio.CancelledError:
            # The client went away while waiting; a turn handed over at that very moment is
            # passed on, not lost.
            if turn.done() and not turn.cancelled():
                self.leave()
            else:
                self._forget(turn)
            raise
        QUEUED.observe(loop.time() - since)
        return True

    def _forget(self, turn: asyncio.Future[None]) -> None:
        # The turn was cancelled with its task; leave() may have dropped it from the queue
        # already (it skips cancelled turns) before the task got here.
        if turn in self.waiting:
            self.waiting.remove(turn)

    def leave(self) -> None:
        """The request's work is done: its place goes to the longest waiting one."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.busy -= 1


# Connections of a process's pool kept from requests: the consumer's batch, the relay's lease,
# the audit sealer's and the retention job's.
BACKGROUND_CONNECTIONS = 4


def default_inflight(pool_size: int) -> int:
    """Requests at work at once: the pool's connections (brightline.platform.db.create_engine)
    but the background's. Fewer would leave connections idle while a slow database holds each
    request longer (throughput is then the connections at work over the statement latency);
    more would wait for the pool instead."""
    return max(1, pool_size - BACKGROUND_CONNECTIONS)


def overloaded() -> Problem:
    return Problem(
        503,
        "overloaded",
        "Service overloaded",
        "Too many requests are waiting; retry with the same Idempotency-Key",
        headers={"Retry-After": "2"},
    )
