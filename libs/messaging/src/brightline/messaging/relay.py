"""The outbox relay: publishes committed outbox rows to Kafka, in order, until it succeeds.

A crash anywhere loses nothing: a row is marked published only after the broker acknowledged
it, so the worst case is a second publication, which consumers' inboxes turn into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import zlib
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from brightline.contracts import Event, to_record
from brightline.messaging import metrics
from brightline.messaging.kafka import prefixed
from brightline.messaging.schema import outbox
from brightline.platform.settings import OUTBOX_RELAY_PACE_MS
from brightline.platform.waiting import wait_event

log = logging.getLogger(__name__)

# The outbox is split into shards by a hash of the record key; one relay at a time publishes a
# shard, so relays run in parallel on one database while each key's events still leave one at a
# time, in id order. A key always falls in the same shard. A relay holds its shards' session
# advisory locks (RELAY_LOCK + shard; RELAY_LOCK alone is shard 0, which with one shard is the
# whole outbox) as leases on one long-lived connection: a round is then one SELECT of its shards'
# waiting rows (carrying the previous batch's marks), not a probe and, per shard, a lock, a
# select, an update and an unlock. A relay that dies (its connection closes) leaves its leases to
# the others.
RELAY_LOCK = zlib.crc32(b"brightline.outbox.relay")
# Every running relay of a database holds this lock in shared mode: the number of its holders is
# the number of relays the shards are shared among.
RELAY_MEMBERS = zlib.crc32(b"brightline.outbox.relay.members")

# How often a relay recounts the relays and takes free shards or hands back those above its
# share: the time within which a dead relay's shards are taken over, or a new relay gets some.
LEASE_CHECK_SECONDS = 1.0

# How long an idle relay waits for a wake-up when it is the only relay of its database, holds
# every shard and has no marks to write: every unit of work of its process wakes it after a
# commit that wrote outbox rows, so the wait only catches rows of a writer that woke no relay
# (a job of another process) and a relay joining; with peers it polls every idle_interval, as a
# peer's commits may write rows in its shards.
ALONE_IDLE_SECONDS = 1.0

# How long acknowledged rows may wait for their published_at marks while a stream goes on: the
# marks of many rounds go out in one statement (one write transaction, not one per round), and
# the rounds in between leave the rows out by id. A crash in between publishes them again, which
# inboxes absorb. A backlog (full batches) marks every round, as the marks of a batch_size are
# due at once.
MARK_EVERY_SECONDS = 1.0
# Least time between the starts of two rounds of a stream (commits waking the relay one after
# another): one round, one statement and one produce request publish what the commits of the
# pace wrote, where a round per wake-up sent an event or two. At 70 % of the sustained load on
# the 2-core bench, intake's relay ran 37 rounds per 100 tickets, 14-26 with the pace (every
# relay: 59 -> 37-48); saturated, rounds are full either way. The first round after a quiet
# spell starts at once, and a backlog (full batches) is not paced: a stream waits at most this
# much per hop.
ROUND_PACE_SECONDS = OUTBOX_RELAY_PACE_MS / 1000
# Rows a round hands to the producer between two turns of the event loop: a row costs ~15 µs of
# CPU (its record built and appended to the producer's batch: measured on the 2-core box) and
# awaits nothing, so a full round of 500 rows held the process's HTTP requests for 7-9 ms, and
# twice that on a busy box.
ROWS_PER_TURN = 50
# How long a stopping relay lets its round under way finish (the producer's own request timeout
# is 15 s; a process's shutdown should not wait that long).
STOP_GRACE_SECONDS = 10.0

# How often the backlog gauge is recounted while rows are waiting (an empty outbox is seen for
# free: an under-full batch of all shards says so).
BACKLOG_EVERY_SECONDS = 5.0

# The relays holding RELAY_MEMBERS on this database (advisory locks of every database show in
# pg_locks; a bigint key is split into classid, the high half, and objid, the low half).
_MEMBERS = sa.text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
    " AND classid = :hi AND objid = :lo"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
).bindparams(hi=RELAY_MEMBERS >> 32, lo=RELAY_MEMBERS & 0xFFFFFFFF)
# Up to :n of the given free shards whose lock this session gets (each tried at most once).
_TAKE = sa.text(
    "SELECT s FROM unnest(CAST(:free AS int[])) AS s"
    " WHERE pg_try_advisory_lock(CAST(:base AS bigint) + s) LIMIT :n"
)
_RELEASE = sa.text(
    "SELECT bool_and(pg_advisory_unlock(CAST(:base AS bigint) + s))"
    " FROM unnest(CAST(:shards AS int[])) AS s"
)


def shard_of(shards: int) -> sa.ColumnElement[int]:
    """The shard of a row: PostgreSQL's own string hash of the key, masked non-negative."""
    return sa.func.hashtext(outbox.c.key).op("&")(0x7FFFFFFF) % shards


def shard_filter(shards: int, held: Collection[int]) -> sa.ColumnElement[bool]:
    if shards <= 1 or len(held) >= shards:
        return sa.true()
    return shard_of(shards).in_(sorted(held))


# The rows acknowledged since the last marks, each with its broker acknowledgement time (not
# the later time of the marking).
_ACKNOWLEDGED = sa.bindparam("acknowledged", type_=ARRAY(sa.BigInteger))
_MARKS = (
    sa.func.unnest(
        _ACKNOWLEDGED, sa.bindparam("acknowledged_at", type_=ARRAY(sa.DateTime(timezone=True)))
    )
    .table_valued("id", "at")
    .render_derived()
)
_MARK_PUBLISHED = outbox.update().where(outbox.c.id == _MARKS.c.id).values(published_at=_MARKS.c.at)


@lru_cache(maxsize=256)
def _batch(
    batch_size: int, shards: int, held: tuple[int, ...], leaving_out: bool, marking: bool
) -> sa.Select[Any]:
    """The next rows to publish of the shards held, built once per kind of round (a relay
    holds the same shards round after round): the acknowledged rows left out, their marks
    riding along when due."""
    batch = (
        sa.select(outbox)
        .where(outbox.c.published_at.is_(None), shard_filter(shards, held))
        .order_by(outbox.c.id)
        .limit(batch_size)
    )
    if leaving_out:
        batch = batch.where(outbox.c.id != sa.all_(_ACKNOWLEDGED))
    if marking:
        batch = batch.add_cte(_MARK_PUBLISHED.cte("marked"))
    return batch


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        *,
        topic_prefix: str = "",
        batch_size: int = 500,
        idle_interval: float = 0.25,
        alone_idle_interval: float = ALONE_IDLE_SECONDS,
        max_backoff: float = 5.0,
        service: str = "",
        shards: int = 1,
        lease_check_seconds: float = LEASE_CHECK_SECONDS,
        mark_every: float = MARK_EVERY_SECONDS,
        round_pace: float = ROUND_PACE_SECONDS,
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.alone_idle_interval = alone_idle_interval
        self.alone = False
        self.max_backoff = max_backoff
        self.shards = max(1, shards)
        self.lease_check_seconds = lease_check_seconds
        self.mark_every = mark_every
        self.round_pace = round_pace
        self._round_started = -math.inf
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._conn: AsyncConnection | None = None
        # The shards whose lease this relay holds on _conn.
        self.held: set[int] = set()
        # Rows the broker acknowledged and when, marked published by a later round's SELECT
        # (when due: mark_every after the first of them, or a batch_size of them), or before a
        # lease is handed back: a round costs one round trip less, and a stream of rounds one
        # write transaction per mark_every. A crash before the marking publishes them again,
        # which inboxes absorb.
        self._acknowledged: list[int] = []
        self._acknowledged_at: list[datetime] = []
        self._marks_since = math.inf  # monotonic time of the oldest unmarked acknowledgement
        self._checked_at = -math.inf
        self.published_total = 0
        self._backlog_counted_at = 0.0
        self.service = (
            service or getattr(getattr(producer, "client", None), "_client_id", None) or "unknown"
        )

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so they leave at once, not next tick."""
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """The round under way finishes before the relay stops: rows it sent are marked
        published once the broker has acknowledged them. Cancelled while it waited for the
        acknowledgements, the relay left them unmarked, and the next relay (a restarted
        process) sent them again: duplicates on the topic after a plain restart. A round that
        cannot finish (a broker away) is cancelled after STOP_GRACE_SECONDS."""
        if self._task:
            self._stop.set()
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_SECONDS)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._conn is not None:
            try:
                await self._flush_marks(self._conn)
            except Exception as error:  # noqa: BLE001 - the rows go out again: inboxes absorb it
                log.warning("outbox relay could not mark its last batch published: %s", error)
        await self.release()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            # Cleared before the round, not after it: a commit landing while the round runs
            # (its rows not in the round's snapshot) wakes the next one. Cleared after, its
            # wake-up was lost and its rows waited for the idle poll (a quarter of a second).
            self._wake.clear()
            self._round_started = time.monotonic()
            try:
                full = await self.publish_round()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as error:  # broker or database away: wait and try again
                log.warning("outbox relay failed, retrying in %.1fs: %s", backoff, error)
                # With the connection go the leases: whoever publishes the shards next reads
                # them afresh, and a broken connection is not reused.
                await self.release()
                await wait_event(self._stop, backoff)  # a stop cuts the wait short
                backoff = min(backoff * 2, self.max_backoff)
                continue
            if full:
                continue
            # Marks still to write ride the round that comes when they are due.
            if self.alone and len(self.held) >= self.shards:
                wait = min(
                    self.alone_idle_interval, self._marks_since + self.mark_every - time.monotonic()
                )
            else:
                wait = self.idle_interval
            if await wait_event(self._wake, max(0.0, wait)):
                # Woken by a commit: under a stream, the round waits for the pace's others.
                paced = self._round_started + self.round_pace - time.monotonic()
                if paced > 0:
                    await wait_event(self._stop, paced)  # a stop cuts the wait short

    async def publish_round(self) -> bool:
        """One batch of the shards this relay holds, up to batch_size rows in id order (so in
        order per key). Now and then the leases are rebalanced first. An idle round is one
        statement. Returns whether the batch was full (more may be waiting)."""
        conn = await self._connection()
        if time.monotonic() - self._checked_at >= self.lease_check_seconds:
            await self._balance(conn)
        if not self.held:
            return False
        # Never fused with taking a lease: a statement's snapshot is taken before its locks
        # are, and could miss the marks of the relay that just let the shard go. A shard taken
        # in an earlier statement is read afresh here.
        leaving_out = bool(self._acknowledged)
        # Rows published but not marked yet are left out by id; when their marks are due they
        # ride along (a data-modifying CTE runs to completion even unread; this statement's
        # snapshot predates them, so the ids still leave the rows out).
        marking = leaving_out and (
            len(self._acknowledged) >= self.batch_size
            or time.monotonic() - self._marks_since >= self.mark_every
        )
        batch = _batch(self.batch_size, self.shards, tuple(sorted(self.held)), leaving_out, marking)
        rows = (await conn.execute(batch, self._marks())).all()
        if marking:
            self._marked()
        await self._publish_locked(conn, rows)
        await self._update_backlog(
            conn, empty=len(rows) < self.batch_size and len(self.held) >= self.shards
        )
        return len(rows) >= self.batch_size

    async def _connection(self) -> AsyncConnection:
        """The relay's own connection, in autocommit: every statement commits on its own, so no
        transaction stays open while the broker acknowledges; the leases live in its session."""
        if self._conn is None:
            conn = await self.engine.connect()
            try:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(sa.select(sa.func.pg_advisory_lock_shared(RELAY_MEMBERS)))
            except BaseException:
                await asyncio.shield(conn.invalidate())
                raise
            self._conn, self.held, self._checked_at = conn, set(), -math.inf
        return self._conn

    async def _balance(self, conn: AsyncConnection) -> None:
        """Hold a fair share of the shards: take free ones up to it (a dead relay's among
        them), hand back those above it (a relay has joined)."""
        relays = await conn.scalar(_MEMBERS) or 1
        self.alone = relays == 1
        share = -(-self.shards // relays)
        if len(self.held) > share:
            extra = sorted(self.held)[share:]
            # Marks committed before the unlock: the next holder sees the rows published.
            await self._flush_marks(conn)
            await conn.execute(_RELEASE, {"base": RELAY_LOCK, "shards": extra})
            self.held.difference_update(extra)
        elif len(self.held) < share:
            free = [s for s in range(self.shards) if s not in self.held]
            taken = await conn.execute(
                _TAKE, {"base": RELAY_LOCK, "free": free, "n": share - len(self.held)}
            )
            self.held.update(taken.scalars())
        self._checked_at = time.monotonic()

    def _marks(self) -> dict[str, list[Any]]:
        return {"acknowledged": self._acknowledged, "acknowledged_at": self._acknowledged_at}

    def _marked(self) -> None:
        self._acknowledged, self._acknowledged_at, self._marks_since = [], [], math.inf

    async def _flush_marks(self, conn: AsyncConnection) -> None:
        if self._acknowledged:
            await conn.execute(_MARK_PUBLISHED, self._marks())
            self._marked()

    async def release(self) -> None:
        """Give up the connection, and with it every lease: closing it (not returning it to the
        pool, where a session lock would outlive us) releases the locks even when an unlock
        could not run (cancelled, connection broken)."""
        conn, self._conn, self.held, self.alone = self._conn, None, set(), False
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: closed all the same
                await asyncio.shield(conn.invalidate())
                await asyncio.shield(conn.close())

    async def _update_backlog(self, conn: AsyncConnection, *, empty: bool) -> None:
        gauge = metrics.backlog(self.service)
        if empty:
            gauge.set(0)
            return
        now = time.monotonic()
        if now - self._backlog_counted_at >= BACKLOG_EVERY_SECONDS:
            self._backlog_counted_at = now
            gauge.set(await _count_backlog(conn))

    async def _publish_locked(self, conn: AsyncConnection, rows: Sequence[sa.Row[Any]]) -> int:
        if not rows:
            return 0
        metrics.relay_rounds(self.service).inc()
        deliveries = []
        for i, row in enumerate(rows, 1):
            if i % ROWS_PER_TURN == 0:
                await asyncio.sleep(0)  # the process's HTTP requests and consumer go on
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
            self._acknowledged += done
            self._acknowledged_at += [datetime.now(UTC)] * len(done)
            self._marks_since = min(self._marks_since, time.monotonic())
        if failed:
            # Marked now: the error drops the connection, and with it the deferred marks.
            await self._flush_marks(conn)
            await conn.execute(
                outbox.update()
                .where(outbox.c.id.in_([row_id for row_id, _ in failed]))
                .values(attempts=outbox.c.attempts + 1, last_error=str(failed[0][1])[:2000])
            )
        self.published_total += len(done)
        for row, result in zip(rows, results, strict=True):
            if not isinstance(result, BaseException):
                metrics.published(self.service, row.topic, row.event_type).inc()
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
        return await _count_backlog(conn)


_BACKLOG = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))


async def _count_backlog(conn: AsyncConnection) -> int:
    return await conn.scalar(_BACKLOG) or 0
