"""Test helpers: put events on the real broker as another service would, read topics back, and
count the SQL a hot path compiles."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from brightline.contracts import Event, EventPayload, from_record, new_event, to_record
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.messaging.kafka import create_producer, ensure_topics, prefixed


def sample_ticket(
    i: int, *, description: str | None = None, key: str | None = None
) -> TicketRecordedV1:
    """The i-th recorded repair ticket of a test: its id the key when given (the Kafka key), its
    description i unless given (tests read the number back from what a handler saw)."""
    return TicketRecordedV1(
        ticket_id=key or f"t-{i}",
        ticket_no=f"{i:012d}",
        ticket_type="repair",
        first_ask_owner="agent-1",
        recorded_at=datetime.now(UTC),
        description=str(i) if description is None else description,
    )


async def publish(
    bootstrap: str, prefix: str, *payloads: EventPayload, source: str = "/brightline/test"
) -> list[Event]:
    """Publish payloads exactly as a service's relay would (CloudEvents binary mode)."""
    events = [new_event(p, source=source) for p in payloads]
    await publish_events(bootstrap, prefix, events)
    return events


async def publish_events(bootstrap: str, prefix: str, events: list[Event]) -> None:
    await ensure_topics(bootstrap, sorted({prefixed(prefix, e.topic) for e in events}))
    producer = create_producer(bootstrap, "test-publisher")
    await producer.start()
    try:
        for event in events:
            record = to_record(event)
            await producer.send_and_wait(
                prefixed(prefix, event.topic),
                value=record.value,
                key=record.key,
                headers=record.headers,
            )
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 30.0
) -> list[ConsumerRecord]:
    """Read a topic from the beginning until `expect` records arrived (or the timeout)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return records


def events_of(records: list[ConsumerRecord]) -> list[Event]:
    return [from_record(r.key, r.value, list(r.headers or ())) for r in records]


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def count_compilations(monkeypatch: Any) -> list[str]:
    """From now on (pytest's monkeypatch undoes it), the kind of every SQL statement SQLAlchemy
    compiles, in order: a hot path once warm should find all its statements in the cache.
    Called in a running event loop, only the calling task's count: the service's own background
    tasks (its relay's first round after a commit, its sealer) compile theirs when the loop lets
    them, which a busy box puts anywhere (ci92)."""
    from sqlalchemy.sql.compiler import Compiled

    compiled: list[str] = []
    init = Compiled.__init__
    try:
        caller = asyncio.current_task()
    except RuntimeError:  # no running loop: every compilation counts
        caller = None

    def counting(self: Compiled, *args: Any, **kwargs: Any) -> None:
        if caller is None or _current_task() is caller:
            compiled.append(type(self).__name__)
        init(self, *args, **kwargs)

    monkeypatch.setattr(Compiled, "__init__", counting)
    return compiled
