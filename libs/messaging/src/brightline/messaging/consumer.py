"""The event consumer: a whole fetch (every partition of it, up to batch_size records) applied in
one transaction (its inbox rows riding on the commit's last statement, one commit), the records
of each partition in order; inbox for redeliveries, manual offset commits, retries and a
dead-letter topic for records that can never succeed. A record that fails is isolated: the
records before it are applied again as a batch, it alone gets its remaining attempts, and the
rest go on in batches, so a poison record costs exactly max_attempts tries. Only the records of
its partition wait for it: the fetch's other partitions are applied while it waits between
attempts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping

import sqlalchemy as sa
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from brightline.contracts import Event, InvalidEvent, Topic, from_record
from brightline.messaging import metrics
from brightline.messaging.kafka import kafka_auth, pace_fetches, prefixed
from brightline.messaging.schema import inbox
from brightline.messaging.unit_of_work import AppliedBefore, UnitOfWork
from brightline.platform import telemetry
from brightline.platform.db import database_unavailable, transaction_conflict
from brightline.platform.settings import CONSUMER_FETCH_PACE_MS

log = logging.getLogger(__name__)
tracer = trace.get_tracer("brightline.messaging")
_IDS = RandomIdGenerator()

Route = Callable[[Event, UnitOfWork], Awaitable[None]]
# A record waiting for its batch: the record (for the dead-letter topic), its event, its route.
Pending = tuple[ConsumerRecord, Event, Route]

# A fetch returns as soon as one record is there, and an idle fetch waits at the broker for up to
# half a second (a long poll). Batches grow under load all the same: the consumer fetches ahead
# while it applies, and the next fetch brings everything that arrived meanwhile. Holding fetches
# back to fill them (fetch_min_bytes 64 KiB, at most 10 ms) was tried and measured: the short
# waits make idle consumers poll the broker a hundred times a second (the broker's idle CPU
# went from 0.06 to 0.23 of a core with five services). Pacing only a stream (20 ms and 64 KiB
# while records came faster than 100 a second) was tried too and measured worse on both sides
# (bench --profile sla_monitor): the broker re-checks a waiting fetch over all its ~100
# partitions on every append to one of them, and the client sent more fetches, not fewer.
FETCH_MAX_WAIT_MS = 500
FETCH_MIN_BYTES = 1
# What paces a stream instead: the client spaces its fetch requests (kafka.pace_fetches).
FETCH_PACE_SECONDS = CONSUMER_FETCH_PACE_MS / 1000


# Events a batch applies between two turns of the event loop (the HTTP requests of the process
# wait meanwhile): a route that gathers its rows for the commit (records, intake's copy of work
# orders) costs ~0.1-0.2 ms of CPU and awaits no I/O.
EVENTS_PER_TURN = 10


def _same_partition(item: Pending, other: Pending) -> bool:
    same: bool = item[0].partition == other[0].partition and item[0].topic == other[0].topic
    return same


def handles_only(accepts: Callable[[Event], bool], route: Route) -> Route:
    """Declare which events of a type a route acts on (e.g. only complaint tickets). The
    consumer skips the others before opening a transaction: no inbox row, no commit. The
    predicate must be pure and cheap; it sees the event, not the database."""

    async def declared(event: Event, uow: UnitOfWork) -> None:
        await route(event, uow)

    declared.accepts = accepts  # type: ignore[attr-defined]
    declared.__wrapped__ = route  # type: ignore[attr-defined]
    return declared


def wants(route: Route, event: Event) -> bool:
    accepts = getattr(route, "accepts", None)
    if accepts is None:
        return True
    try:
        return bool(accepts(event))
    except Exception:  # noqa: BLE001 - a malformed payload: the route decides (retries, DLT)
        return True


def _trace_of(event: Event, *, begin: bool) -> otel_context.Context:
    """The context of the producer's trace (its span as the remote parent). An event that came
    without one (published by hand, or by a process that does not trace) gets a trace of its
    own when `begin` and tracing is on, as a root span would have given it: what it causes
    then carries a traceparent all the same. Without `begin`, a span started in the context
    is the root."""
    if event.traceparent:
        parent = telemetry.remote_parent(event.traceparent)
        if parent.is_valid:
            return trace.set_span_in_context(trace.NonRecordingSpan(parent), otel_context.Context())
    if not (begin and telemetry.tracing()):
        return otel_context.Context()
    root = trace.SpanContext(
        trace_id=_IDS.generate_trace_id(),
        span_id=_IDS.generate_span_id(),
        is_remote=False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(root), otel_context.Context())


# Failures of the infrastructure, not of the record: retried until it comes back, never
# dead-lettered (a Postgres restart must not send good events to the DLT).
TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError, OSError, TimeoutError)


def is_transient(error: BaseException) -> bool:
    # A restarting PostgreSQL answers with SQLSTATE 57P01/57P03 as a plain DBAPIError. A batch
    # chosen as a deadlock's victim is not its records' fault either: applied again, no attempt
    # counted (dispatch's triggers lock the crews a statement moves in one order, but two such
    # statements in one transaction could still meet another transaction's in a circle).
    return (
        database_unavailable(error) or transaction_conflict(error) or isinstance(error, TRANSIENT)
    )


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self.owner.commit_processed()
        metrics.forget_lag(self.owner.name, revoked, self.owner.topic_prefix)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        log.info(
            "%s assigned %s",
            self.owner.name,
            sorted(f"{tp.topic}-{tp.partition}" for tp in assigned),
        )


class EventConsumer:
    """Subscribes to topics and hands each event whose type has a route to that route.

    `name` is both the Kafka consumer group and the inbox's consumer column.
    """

    def __init__(
        self,
        *,
        name: str,
        bootstrap_servers: str,
        topics: Iterable[Topic],
        routes: Mapping[str, Route],
        session_factory: async_sessionmaker[AsyncSession],
        dead_letter_producer: AIOKafkaProducer,
        source: str,
        topic_prefix: str = "",
        max_attempts: int = 3,
        retry_backoff: float = 0.2,
        after_commit: Iterable[Callable[[], None]] = (),
        batch_size: int = 50,
        offset_commit_seconds: float = 1.0,
        fallback: Route | None = None,
        fetch_pace_seconds: float = FETCH_PACE_SECONDS,
    ) -> None:
        self.name = name
        self.bootstrap_servers = bootstrap_servers
        self.topic_prefix = topic_prefix
        self.topics = list(topics)
        self.routes = dict(routes)
        # For a consumer that keeps every event (records' timeline): types with no route of
        # their own, even ones newer than this build's contracts, go here instead of being skipped.
        self.fallback = fallback
        self.session_factory = session_factory
        self.dead_letters = dead_letter_producer
        self.source = source
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.after_commit = list(after_commit)
        # Records of a fetch (all its partitions) applied per transaction (one inbox insert,
        # one commit); 1 gives a transaction per record.
        self.batch_size = max(1, batch_size)
        self.offset_commit_seconds = offset_commit_seconds
        self.fetch_pace_seconds = fetch_pace_seconds
        self._committed_at = 0.0
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._processed: dict[TopicPartition, int] = {}
        self.handled_total = 0
        self.dead_lettered_total = 0

    @property
    def assigned(self) -> bool:
        return bool(self._consumer and self._consumer.assignment())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.name,
            client_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=200,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            fetch_min_bytes=FETCH_MIN_BYTES,
            **kafka_auth(),
        )
        self._consumer.subscribe(
            [prefixed(self.topic_prefix, t.name) for t in self.topics],
            listener=_CommitOnRevoke(self),
        )
        await self._consumer.start()
        pace_fetches(self._consumer, self.fetch_pace_seconds, counted_as=self.name)
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer:
            try:
                await self.commit_processed()
            finally:
                await self._consumer.stop()
                self._consumer = None

    async def commit_processed(self) -> None:
        """Commit offset+1 of every record whose transaction has committed."""
        if self._processed and self._consumer:
            offsets, self._processed = self._processed, {}
            try:
                await self._consumer.commit(offsets)
            except Exception as error:  # rebalanced away: the inbox absorbs the redelivery
                log.warning("%s offset commit failed: %s", self.name, error)

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=200)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("%s fetch failed: %s", self.name, error)
                await asyncio.sleep(1)
                continue
            try:
                await self._process_fetch(batches)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # e.g. the dead-letter topic is unreachable right now
                log.error("%s could not finish a batch, fetching it again: %r", self.name, error)
                for partition, records in batches.items():
                    self._consumer.seek(
                        partition, self._processed.get(partition, records[0].offset)
                    )
                await asyncio.sleep(1)
            # Offsets and the lag gauge at most every OFFSET_COMMIT_SECONDS, not after every
            # fetch: an offset commit is a broker round trip and a write to __consumer_offsets,
            # and the inbox absorbs what a crash in between redelivers.
            now = time.monotonic()
            if now - self._committed_at >= self.offset_commit_seconds:
                self._committed_at = now
                await self.commit_processed()
                await metrics.record_lag(self.name, self._consumer, self.topic_prefix)

    async def _process_fetch(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        """Every record of a fetch, all partitions together, in transactions of up to batch_size
        records: a fetch across twelve partitions costs one commit, not twelve. Each partition's
        records keep their order within the batch (and so each key's)."""
        pending: list[Pending] = []
        for partition, records in batches.items():
            for record in records:
                try:
                    event = from_record(record.key, record.value, list(record.headers or ()))
                except InvalidEvent as error:
                    # Order per key: what came before this record is applied before it leaves.
                    await self._apply(pending)
                    pending = []
                    await self._dead_letter(record, error, attempts=1)
                    self._processed[partition] = record.offset + 1
                    continue
                route = self.routes.get(event.type, self.fallback)
                if route is None or not wants(route, event):
                    # Another service's business on a shared topic, or an event this route
                    # declared it ignores: no transaction, no inbox row. Its offset moves on
                    # only when no record of its partition still waits in the batch.
                    if not any(
                        (r.topic, r.partition) == (record.topic, record.partition)
                        for r, _, _ in pending
                    ):
                        self._processed[partition] = record.offset + 1
                    continue
                pending.append((record, event, route))
        await self._apply(pending)
        for partition, records in batches.items():
            if records:
                self._processed[partition] = records[-1].offset + 1

    def _done(self, items: Iterable[Pending]) -> None:
        """Offsets of records whose transaction committed (or which were dead-lettered)."""
        for record, _, _ in items:
            self._processed[TopicPartition(record.topic, record.partition)] = record.offset + 1

    async def _apply(self, items: list[Pending]) -> None:
        """The records in transactions of up to batch_size. On a record's failure, the records
        before it are applied as a batch again and that record alone gets its remaining attempts
        (the failed batch counted as its first). While it waits between attempts only the
        records of its own partition wait behind it (order per key): the others go on in
        batches meanwhile, so a poison record no longer holds up the whole fetch."""
        while items:
            batch, items = items[: self.batch_size], items[self.batch_size :]
            if len(batch) == 1:
                record, event, route = batch[0]
                await self._process_one(record, event, route)
                self._done(batch)
                continue
            failed_at, error = await self._try_batch(batch)
            if failed_at is None:
                self._done(batch)
                continue
            if failed_at < 0:  # the commit failed: no record to blame, isolate them all
                for item in batch:
                    await self._process_one(*item)
                    self._done([item])
                continue
            await self._apply(batch[:failed_at])
            failed, rest = batch[failed_at], batch[failed_at + 1 :] + items
            behind = [item for item in rest if _same_partition(item, failed)]
            others = [item for item in rest if not _same_partition(item, failed)]
            # If either side fails (e.g. the dead-letter topic is unreachable) the group cancels
            # the other; the fetch is then read again from the offsets done so far.
            async with asyncio.TaskGroup() as group:
                group.create_task(self._isolate(failed, error, behind))
                group.create_task(self._apply(others))
            return

    async def _isolate(
        self, failed: Pending, error: BaseException | None, behind: list[Pending]
    ) -> None:
        """The failed record's remaining attempts, then the records of its partition after it."""
        await self._process_one(*failed, failed_before=1, first_error=error)
        self._done([failed])
        await self._apply(behind)

    async def _try_batch(self, items: list[Pending]) -> tuple[int | None, BaseException | None]:
        """Apply the batch in one transaction. Returns (None, None) when committed, (index,
        error) when the route of items[index] failed (nothing committed), (-1, error) when the
        commit itself failed. Infrastructure failures are retried here, uncounted.

        The inbox claim is optimistic: it rides on the commit's last statement, after the
        routes ran. Events it finds in the inbox (a redelivery after a crash or a rebalance)
        roll the transaction back, and the batch is applied again without them. A route that
        fails on such an event (its effects are there already) is not blamed either: after a
        failure the inbox is asked whether the batch held events applied before."""
        before: set[str] = set()  # events of the batch the inbox holds: applied before
        while True:
            index = -1
            try:
                async with UnitOfWork(
                    self.session_factory,
                    source=self.source,
                    after_commit=self.after_commit,
                    # A record alone (isolated, or a fetch of one): its log lines name its ticket.
                    causation=items[0][1] if len(items) == 1 else None,
                ) as uow:
                    applied: list[Event] = []
                    uow.batch = tuple(event for _, event, _ in items if event.id not in before)
                    seen = set(before)  # the same event twice in one batch: applied once
                    for position, (_, event, route) in enumerate(items):
                        if event.id in seen:
                            continue
                        seen.add(event.id)
                        index = position
                        # A constraint a route breaks is blamed on that route: its statements
                        # run as it sends them (Core, no ORM objects: the session has nothing
                        # to flush; a flush per event was a greenlet of SQLAlchemy's, ~9 µs).
                        await self._run_route(event, route, uow)
                        applied.append(event)
                        if len(applied) % EVENTS_PER_TURN == 0:
                            # Routes that gather their writes for the commit await nothing
                            # real: the process's requests get a turn between a few events.
                            await asyncio.sleep(0)
                    index = -1
                    if not applied:
                        return None, None  # every one a redelivery: nothing to write
                    uow.claim(self.name, applied)
                    # The commit and its audit line under the (last) event's trace: a handled
                    # event's log lines carry its trace id, as a request's do.
                    with self._span_of(items[-1][1], "commit"):
                        await uow.commit()
                for event in applied:
                    self.handled_total += 1
                    metrics.handled(self.name, event.type).inc()
                return None, None
            except asyncio.CancelledError:
                raise
            except AppliedBefore as redelivered:
                before |= redelivered.event_ids
            except Exception as error:
                if is_transient(error):
                    log.warning("%s: transient failure (%s); retrying", self.name, error)
                    await asyncio.sleep(min(self.retry_backoff * 10, 2.0))
                    continue
                if found := await self._in_inbox(items) - before:
                    before |= found
                    continue
                return index, error

    async def _in_inbox(self, items: list[Pending]) -> set[str]:
        """The events of the batch the inbox holds (one read, only after a failure)."""
        async with self.session_factory() as session, session.begin():
            found = await session.scalars(
                sa.select(inbox.c.event_id).where(
                    inbox.c.consumer == self.name,
                    inbox.c.event_id.in_([event.id for _, event, _ in items]),
                )
            )
            return set(found)

    async def _process_one(
        self,
        record: ConsumerRecord,
        event: Event,
        route: Route,
        *,
        failed_before: int = 0,
        first_error: BaseException | None = None,
    ) -> None:
        attempt = failed_before
        error = first_error
        if isinstance(error, InvalidEvent):  # the payload breaks its contract: no retry helps
            await self._dead_letter(record, error, attempts=attempt)
            return
        if attempt:
            log.warning("%s failed on %s attempt %d: %r", self.name, event.type, attempt, error)
            if attempt >= self.max_attempts:
                assert error is not None, "a failed attempt hands over its error"
                await self._dead_letter(record, error, attempts=attempt)
                return
            await asyncio.sleep(self.retry_backoff * 2 ** (attempt - 1))
        while True:
            attempt += 1
            # A batch of one: infrastructure failures are retried in there, uncounted.
            failed_at, error = await self._try_batch([(record, event, route)])
            if failed_at is None:
                return
            assert error is not None, "a failed attempt hands over its error"
            if isinstance(error, InvalidEvent):  # the payload breaks its contract: no retry helps
                await self._dead_letter(record, error, attempts=attempt)
                return
            log.warning("%s failed on %s attempt %d: %r", self.name, event.type, attempt, error)
            if attempt >= self.max_attempts:
                await self._dead_letter(record, error, attempts=attempt)
                return
            await asyncio.sleep(self.retry_backoff * 2 ** (attempt - 1))

    async def _run_route(self, event: Event, route: Route, uow: UnitOfWork) -> None:
        uow.causation = event  # events the route emits keep this event's trace
        with self._span_of(event):
            await route(event, uow)

    @contextlib.contextmanager
    def _span_of(self, event: Event, what: str = "process") -> Iterator[None]:
        """The producer's trace continued: its context current while the event is handled, so
        log lines name its trace id and the events emitted carry it in their traceparent. A
        consumer span of its own only when spans leave the process (telemetry.exporting):
        otherwise nothing would ever read it, and the SDK span per event and per commit cost
        about 9 % of a consumer's CPU."""
        exporting = telemetry.exporting()
        token = otel_context.attach(_trace_of(event, begin=not exporting))
        try:
            if not exporting:
                yield
                return
            with tracer.start_as_current_span(
                f"{what} {event.type}",
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.consumer.group.name": self.name,
                    "cloudevents.event_id": event.id,
                    "cloudevents.event_type": event.type,
                },
            ):
                yield
        finally:
            otel_context.detach(token)

    async def _dead_letter(
        self, record: ConsumerRecord, error: BaseException, *, attempts: int
    ) -> None:
        topic = f"{record.topic}.dlt"
        headers = list(record.headers or ()) + [
            ("dlt_error_class", type(error).__name__.encode()),
            ("dlt_error_message", str(error)[:4000].encode()),
            ("dlt_error_trace", "".join(traceback.format_exception(error))[-4000:].encode()),
            ("dlt_original_topic", record.topic.encode()),
            ("dlt_original_partition", str(record.partition).encode()),
            ("dlt_original_offset", str(record.offset).encode()),
            ("dlt_consumer", self.name.encode()),
            ("dlt_attempts", str(attempts).encode()),
        ]
        await self.dead_letters.send_and_wait(
            topic, value=record.value, key=record.key, headers=headers
        )
        self.dead_lettered_total += 1
        metrics.DEAD_LETTERED.labels(
            self.name, metrics.unprefixed(self.topic_prefix, record.topic)
        ).inc()
        log.error(
            "%s dead-lettered %s[%d]@%d: %s",
            self.name,
            record.topic,
            record.partition,
            record.offset,
            error,
        )
