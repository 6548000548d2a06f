"""What the console keeps in its database from other services' events (the floor's calls, the
outcomes of agents' escalations), read in one durable consumer group that every console
replica shares.

The live view (brightline.console.live) reads from the latest offsets, in a group per process:
right for the browsers, which only want what happens while they watch, but not for state that
outlives the process. Fed that way, the floor missed every event published while no console
ran: a call that rang and ended in a restart stayed on the floor for good, a caller "waiting"
for hours on the supervisor's wallboard. This feed commits its offsets once an event is applied,
so a restart picks up where the last one stopped, and each event is applied by one replica.

A group that has no offsets yet (its first start) begins at the oldest call still on the floor,
found by the broker's time index, so a floor kept from before catches up on what it missed;
with an empty floor it begins at the end. The position it took is committed at once, so that a
partition handed to another replica later resumes there and not at the end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from brightline.console.live import short_type
from brightline.contracts import Event, InvalidEvent, UnknownEventType, from_record, spec_for_type
from brightline.contracts.sealed import PersonalDataSeal
from brightline.contracts.topics import SUBSCRIPTIONS
from brightline.messaging.kafka import kafka_auth, pace_fetches, prefixed
from brightline.platform import clock

log = logging.getLogger(__name__)

[STATE_SUBSCRIPTION] = [s for s in SUBSCRIPTIONS if s.group == "console-state-"]
RETRY_SECONDS = 1.0
ATTEMPTS = 5  # of one event, RETRY_SECONDS apart, before it is skipped as bad

# What applies one event: its short type ("call.ended"), its data (sealed fields opened), now.
Apply = Callable[[str, dict, datetime], Awaitable[None]]


def opened(seal: PersonalDataSeal, event: Event) -> dict:
    """The event's data, a call event's with what it seals opened: the floor keeps a ringing
    caller's number (repeat callers, the softphone). Every other event stays sealed: nothing
    here reads its personal data, so opening it would cost a decryption per field for nothing
    and keep a caller's plain text in this process."""
    if not short_type(event.type).startswith("call."):
        return event.data
    try:
        payload = spec_for_type(event.type).payload
    except UnknownEventType:
        return event.data  # a type this build does not know: nothing it knows is sealed
    return seal.opened_data(payload, event.data)


class StateFeed:
    def __init__(
        self,
        bootstrap: str,
        prefix: str,
        seal: PersonalDataSeal,
        apply: Apply,
        oldest_kept: Callable[[], Awaitable[datetime | None]],
        *,
        fetch_pace_seconds: float,
    ) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.seal = seal
        self.apply = apply
        self.oldest_kept = oldest_kept
        self.fetch_pace_seconds = fetch_pace_seconds
        # One group for every replica of one deployment (the topic prefix names the deployment).
        self.group_id = f"{STATE_SUBSCRIPTION.group}{prefix}"
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self._positioned = asyncio.Event()
        self._failures: dict[tuple[TopicPartition, int], int] = {}

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id="console-state",
            enable_auto_commit=False,
            auto_offset_reset="latest",
            **kafka_auth(),
        )
        await self._consumer.start()
        pace_fetches(self._consumer, self.fetch_pace_seconds, counted_as="console-state")
        feed = self

        class Resume(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):
                feed._positioned.clear()

            async def on_partitions_assigned(self, assigned):
                await feed._position(assigned)

        self._consumer.subscribe(
            [prefixed(self.prefix, t.name) for t in STATE_SUBSCRIPTION.topics], listener=Resume()
        )
        self._task = asyncio.create_task(self._run(), name="console-state-feed")

    async def _position(self, assigned: set[TopicPartition]) -> None:
        consumer = self._consumer
        assert consumer is not None, "partitions are assigned to a started consumer"
        fresh = [tp for tp in assigned if await consumer.committed(tp) is None]
        if fresh:
            since = await self.oldest_kept()
            found = (
                await consumer.offsets_for_times(
                    {tp: int(since.timestamp() * 1000) for tp in fresh}
                )
                if since is not None
                else {}
            )
            for tp in fresh:
                if (at := found.get(tp)) is not None:
                    consumer.seek(tp, at.offset)
                else:
                    await consumer.seek_to_end(tp)
            await consumer.commit(
                {tp: OffsetAndMetadata(await consumer.position(tp), "") for tp in fresh}
            )
        # Ready also with no partition at all: a replica beyond the partitions' count only waits
        # for a rebalance to hand it some, and must not be held unready for it.
        self._positioned.set()

    async def ready(self) -> bool:
        return self._task is not None and not self._task.done() and self._positioned.is_set()

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None, "the feed runs on a started consumer"
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("state feed failed to fetch; retrying")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for tp, records in batch.items():
                await self._apply_partition(consumer, tp, records)

    async def _apply_partition(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, records
    ) -> None:
        """Apply in order and commit after; on a failure (the database away), go back to the
        record that failed and try it again after a pause, up to ATTEMPTS times."""
        done = None
        for record in records:
            try:
                event = from_record(record.key, record.value, list(record.headers or ()))
            except InvalidEvent:
                done = record.offset + 1  # not an event: the services' consumers dead-letter it
                continue
            try:
                await self.apply(short_type(event.type), opened(self.seal, event), clock.now())
            except asyncio.CancelledError:
                raise
            except Exception:
                failed = self._failures[(tp, record.offset)] = (
                    self._failures.get((tp, record.offset), 0) + 1
                )
                if failed < ATTEMPTS:
                    log.exception("state feed could not apply %s; retrying", event.type)
                    consumer.seek(tp, record.offset)
                    await asyncio.sleep(RETRY_SECONDS)
                    break
                # The same event failed every time: a bad event, not the database away. The
                # floor is a view; one event skipped must not stop every call behind it.
                log.exception("state feed skips %s after %s attempts", event.type, failed)
            self._failures.pop((tp, record.offset), None)
            done = record.offset + 1
        if done is not None:
            # A lost commit only redelivers, and every step is idempotent.
            with contextlib.suppress(Exception):
                await consumer.commit({tp: OffsetAndMetadata(done, "")})

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._consumer:
            await self._consumer.stop()
