"""The outbox relay: publishes committed outbox rows to Kafka, in order, until it succeeds.

A crash anywhere loses nothing: a row is marked published only after the broker acknowledged
it, so the worst case is a second publication, which consumers' inboxes turn into a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from brightline.contracts import Event, to_record
from brightline.messaging import metrics
from brightline.messaging.kafka import prefixed
from brightline.messaging.schema import outbox

log = logging.getLogger(__name__)

# The outbox is split into shards by a hash of the record key; one relay at a time publishes a
# shard (a session advisory lock per shard, held for one batch), so relays run in parallel on
# one database while each key's events still leave one at a time, in id order. A key always
# falls in the same shard. Lock key: RELAY_LOCK + shard (RELAY_LOCK alone is shard 0, which
# with one shard is the whole outbox, as the single relay of old locked it).
RELAY_LOCK = zlib.crc32(b"brightline.outbox.relay")

# How often the backlog gauge is recounted while rows are waiting (an empty outbox is seen for
# free: the probe or an under-full batch says so).
BACKLOG_EVERY_SECONDS = 5.0


def shard_of(shards: int) -> sa.ColumnElement[int]:
    """The shard of a row: PostgreSQL's own string hash of the key, masked non-negative."""
    return sa.func.hashtext(outbox.c.key).op("&")(0x7FFFFFFF) % shards


def shard_filter(shards: int, shard: int) -> sa.ColumnElement[bool]:
    return sa.true() if shards <= 1 else shard_of(shards) == shard


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        *,
        topic_prefix: str = "",
        batch_size: int = 500,
        idle_interval: float = 0.25,
        max_backoff: float = 5.0,
        service: str = "",
        shards: int = 1,
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.max_backoff = max_backoff
        self.shards = max(1, shards)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published_total = 0
        self._backlog_counted_at = 0.0
        self.service = (
            service or getattr(getattr(producer, "client", None), "_client_id", None) or "unknown"
        )

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so they leave at once, not next tick."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                full = False
                waiting = await self._shards_waiting()
                if waiting:
                    _, full = await self.publish_round(waiting)
                backoff = 0.1
                await self._update_backlog(empty=not waiting)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # broker or database away: wait and try again
                log.warning("outbox relay failed, retrying in %.1fs: %s", backoff, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            if full:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.idle_interval)
            except TimeoutError:
                pass

    async def _shards_waiting(self) -> list[int]:
        """Each tick's probe, without a lock: the shards that hold unpublished rows among the
        oldest few (an index scan of the unpublished rows only), so a round touches only those
        and an idle tick costs one statement. A hint: publish_batch reads again under the lock."""
        async with self.engine.connect() as conn:
            if self.shards <= 1:
                found = await conn.scalar(
                    sa.select(sa.exists().where(outbox.c.published_at.is_(None)))
                )
                return [0] if found else []
            head = (
                sa.select(
                    (sa.func.hashtext(outbox.c.key).op("&")(0x7FFFFFFF) % self.shards).label(
                        "shard"
                    )
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self.batch_size * self.shards)
                .subquery()
            )
            return sorted((await conn.execute(sa.select(head.c.shard).distinct())).scalars())

    async def _update_backlog(self, *, empty: bool) -> None:
        gauge = metrics.OUTBOX_BACKLOG.labels(self.service)
        if empty:
            gauge.set(0)
            return
        now = time.monotonic()
        if now - self._backlog_counted_at >= BACKLOG_EVERY_SECONDS:
            self._backlog_counted_at = now
            gauge.set(await outbox_backlog(self.engine))

    async def publish_round(self, shards: list[int] | None = None) -> tuple[int, bool]:
        """One batch of each shard (default: all), side by side. Returns (published, any batch
        full)."""
        shards = list(range(self.shards)) if shards is None else shards
        results = await asyncio.gather(
            *(self.publish_batch(shard) for shard in shards), return_exceptions=True
        )
        published = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            published.append(result)
        return sum(published), any(n >= self.batch_size for n in published)

    async def publish_batch(self, shard: int = 0) -> int:
        """Publish up to batch_size unpublished rows of a shard in id order; return how many
        succeeded. No transaction stays open while the broker acknowledges: the shard's advisory
        lock (a session lock) keeps other relays off the shard meanwhile, and each statement
        commits on its own."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            lock = RELAY_LOCK + shard
            # The lock is its own statement: a SELECT fused with it would read a snapshot taken
            # before the lock was held and could miss the marks of the relay that just let go.
            if not await conn.scalar(sa.select(sa.func.pg_try_advisory_lock(lock))):
                return 0  # another relay publishes this shard right now
            try:
                rows = (
                    await conn.execute(
                        sa.select(outbox)
                        .where(outbox.c.published_at.is_(None), shard_filter(self.shards, shard))
                        .order_by(outbox.c.id)
                        .limit(self.batch_size)
                    )
                ).all()
                return await self._publish_locked(conn, rows)
            finally:
                # After the marking committed (autocommit), never before: a session lock is
                # released at once, and the next holder must see the rows as published.
                await self._unlock(conn, lock)

    @staticmethod
    async def _unlock(conn: AsyncConnection, lock: int) -> None:
        """A session lock outlives the transaction: a pooled connection still holding it would
        block the shard for every other relay. If the unlock cannot run (cancelled, connection
        broken), the connection is closed instead, which releases it."""
        try:
            await conn.scalar(sa.select(sa.func.pg_advisory_unlock(lock)))
        except BaseException:
            await asyncio.shield(conn.invalidate())
            raise

    async def _publish_locked(self, conn: AsyncConnection, rows: Sequence[sa.Row[Any]]) -> int:
        if not rows:
            return 0
        deliveries = []
        for row in rows:
            record = to_record(event_from_row(row))
            deliveries.append(
                await self.producer.send(
                    prefixed(self.topic_prefix, row.topic),
                    value=record.value,
                    key=record.key,
                    headers=record.headers,
                )
            )
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        # The idempotent producer fails every later record of a partition after a failed
        # one, so marking exactly the acknowledged rows keeps each key's order.
        done = [
            row.id
            for row, result in zip(rows, results, strict=True)
            if not isinstance(result, BaseException)
        ]
        failed = [
            (row.id, result)
            for row, result in zip(rows, results, strict=True)
            if isinstance(result, BaseException)
        ]
        if done:
            await conn.execute(
                outbox.update().where(outbox.c.id.in_(done)).values(published_at=sa.func.now())
            )
        if failed:
            await conn.execute(
                outbox.update()
                .where(outbox.c.id.in_([row_id for row_id, _ in failed]))
                .values(attempts=outbox.c.attempts + 1, last_error=str(failed[0][1])[:2000])
            )
        self.published_total += len(done)
        for row, result in zip(rows, results, strict=True):
            if not isinstance(result, BaseException):
                metrics.OUTBOX_PUBLISHED.labels(self.service, row.topic, row.event_type).inc()
        if failed:
            raise RuntimeError(
                f"{len(failed)} of {len(rows)} outbox rows not acknowledged: {failed[0][1]}"
            )
        return len(done)


def event_from_row(row: sa.Row[Any]) -> Event:
    return Event(
        id=row.event_id,
        type=row.event_type,
        source=row.source,
        subject=row.key,
        time=row.occurred_at,
        data=row.data,
        traceparent=row.traceparent,
    )


async def outbox_backlog(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        backlog = await conn.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
        return backlog or 0
