"""The outbox relay: publishes committed outbox rows to Kafka, in order, until it succeeds.

A crash anywhere loses nothing: a row is marked published only after the broker acknowledged
it, so the worst case is a second publication, which consumers' inboxes turn into a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import zlib

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from brightline.contracts import Event, to_record
from brightline.messaging import metrics
from brightline.messaging.kafka import prefixed
from brightline.messaging.schema import outbox

log = logging.getLogger(__name__)

# One relay per database publishes at a time; a second replica waits as a standby. Without
# this, two relays could publish a key's events out of order.
RELAY_LOCK = zlib.crc32(b"brightline.outbox.relay")


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
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.published_total = 0
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
                published = await self.publish_batch()
                backoff = 0.1
                metrics.OUTBOX_BACKLOG.labels(self.service).set(await outbox_backlog(self.engine))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # broker or database away: wait and try again
                log.warning("outbox relay failed, retrying in %.1fs: %s", backoff, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            if published < self.batch_size:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.idle_interval)
                except TimeoutError:
                    pass

    async def publish_batch(self) -> int:
        """Publish up to batch_size unpublished rows in id order; return how many succeeded."""
        async with self.engine.begin() as conn:
            if not await conn.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(RELAY_LOCK))):
                return 0
            rows = (
                await conn.execute(
                    sa.select(outbox)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self.batch_size)
                )
            ).all()
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
            for row_id, error in failed:
                await conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row_id)
                    .values(attempts=outbox.c.attempts + 1, last_error=str(error)[:2000])
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


def event_from_row(row) -> Event:
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
        return await conn.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
