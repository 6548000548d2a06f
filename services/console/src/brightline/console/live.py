"""The live view: one plain Kafka consumer per console process (its own group, from the latest
offsets: the console owns no business data, so it needs neither inbox nor outbox) that fans
every event out to the browsers' SSE streams, and the floor (queues, agent states, call offers)
those streams show. The events that change the floor reach it through the durable state feed
(brightline.console.state_feed), not through this consumer: what happened while no console ran
must reach the floor too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from sqlalchemy.ext.asyncio import AsyncEngine

from brightline.console.adapters import desk_store
from brightline.console.adapters.floor_store import FloorStore, Step
from brightline.console.domain.floor import Floor, Notice
from brightline.contracts import InvalidEvent, from_record
from brightline.contracts.topics import SUBSCRIPTIONS
from brightline.messaging.kafka import kafka_auth, pace_fetches, prefixed
from brightline.platform import clock
from brightline.platform.auth import Principal, Role
from brightline.platform.settings import CONSUMER_FETCH_PACE_MS

log = logging.getLogger(__name__)

# The live view's topics are declared once, in the topic registry (its ACLs too).
[LIVE_SUBSCRIPTION] = [s for s in SUBSCRIPTIONS if s.group == "console-live-"]
LIVE_TOPICS = list(LIVE_SUBSCRIPTION.topics)
# Never broadcast to every browser: personal data stays in the screens that fetch it on purpose.
PERSONAL = {
    "phone",
    "caller_name",
    "caller_number",
    "address",
    # Where a caller's fault is (a ticket's, a work order's position) places their home as an
    # address does; the dispatch board fetches positions on purpose, no stream needs them.
    "latitude",
    "longitude",
    "customer_words",
    "reported_party",
    "customer_name",
    "contact",
    "description",
    "note",
}


def short_type(event_type: str) -> str:
    """brightline.intake.ticket.recorded.v1 -> ticket.recorded"""
    parts = event_type.split(".")
    return ".".join(parts[2:-1]) if len(parts) >= 4 else event_type


def public_data(data: dict) -> dict:
    return {k: ("***" if k in PERSONAL and v else v) for k, v in data.items()}


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=1000))

    def wants(self, target: str | None) -> bool:
        if target is None:
            return True
        return target == self.principal.subject


class LiveHub:
    def __init__(
        self,
        bootstrap: str,
        prefix: str,
        *,
        recent: int = 200,
        engine: AsyncEngine | None = None,
        fetch_pace_seconds: float = CONSUMER_FETCH_PACE_MS / 1000,
        ring_limit: timedelta = timedelta(seconds=8),
        desk_lost_after: timedelta = timedelta(seconds=60),
        zone: tzinfo = UTC,
    ) -> None:
        self.bootstrap = bootstrap
        self.ring_limit = ring_limit
        self.desk_lost_after = desk_lost_after
        # A desk streaming or polling is written as seen at most every sixth of the limit (10 s
        # of a minute's), however often it polls; absent seats are looked for every twelfth: a
        # desk that is there is never more than a quarter of the limit behind.
        self._seen_every = desk_lost_after.total_seconds() / 6
        self._sweep_every = max(1, round(desk_lost_after.total_seconds() / 12))
        self._seen_written: dict[str, float] = {}  # agent -> when this replica last wrote it
        self._seen_here: dict[str, datetime] = {}  # without a database (unit tests of the hub)
        # The live view fetches like every consumer: paced, in incremental fetch sessions
        # (messaging.kafka.pace_fetches). Unpaced, it sent a full fetch (every partition of its
        # eight topics named) for about every record, which was most of its CPU.
        self.fetch_pace_seconds = fetch_pace_seconds
        self.prefix = prefix
        # With an engine the floor lives in the database (shared by every replica); without one
        # (unit tests of the hub) in this process's memory.
        self.engine = engine
        self.store = FloorStore(engine, zone) if engine is not None else None
        self.floor = Floor(zone=zone)
        self.subscribers: set[Subscriber] = set()
        self.recent: deque[dict] = deque(maxlen=recent)
        self.group_id = f"console-live-{uuid.uuid4().hex[:12]}"
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self._floor_watch: asyncio.Task | None = None
        self._positioned = asyncio.Event()
        self.lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    # ---------------------------------------------------------------- the floor
    @contextlib.asynccontextmanager
    async def change(self) -> AsyncIterator[Step]:
        """One step on the floor, under the floor's lock; its notices reach this replica's
        browsers after the commit (and the other replicas' through the store)."""
        if self.store is None:
            async with self.lock:
                step = Step(self.floor)
                yield step
        else:
            async with self.store.change() as step:
                yield step
            self.floor = step.floor
        self.deliver(step.notices, step.floor)

    async def read(self) -> Floor:
        if self.store is None:
            return self.floor
        self.floor = await self.store.read()
        return self.floor

    async def ring_no_answer(self, now: datetime) -> None:
        """Offers left ringing past the limit move on to the next ready agent. Every replica
        looks; the first step under the floor's lock leaves the others nothing to do."""
        if not (await self.read()).unanswered(now, self.ring_limit):
            return
        async with self.change() as step:
            step.add(step.floor.ring_no_answer(now, self.ring_limit))

    async def seen(self, agent_ids: list[str] | set[str], now: datetime) -> None:
        """These agents' desks are there (an open event stream, a look at the desk)."""
        if self.store is None:
            self._seen_here.update(dict.fromkeys(agent_ids, now))
            return
        tick = asyncio.get_running_loop().time()
        due = [
            a
            for a in agent_ids
            if a not in self._seen_written or tick - self._seen_written[a] >= self._seen_every
        ]
        if due:
            await self.store.mark_seen(due, now)
            self._seen_written.update(dict.fromkeys(due, tick))

    async def leave_absent(self, now: datetime) -> None:
        """Seats whose desk has not been seen for `desk_lost_after` go offline. Every replica
        looks, after marking the desks streaming from it; the first step under the floor's lock
        leaves the others nothing to do."""
        await self.seen({s.principal.subject for s in self.subscribers}, now)
        seen = self._seen_here if self.store is None else await self.store.last_seen()
        if not (await self.read()).absent(now, seen, self.desk_lost_after):
            return
        async with self.change() as step:
            step.add(step.floor.leave_absent(now, seen, self.desk_lost_after))

    async def _watch_floor(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(1)
            ticks += 1
            try:
                await self.ring_no_answer(clock.now())
                if ticks % self._sweep_every == 0:
                    await self.leave_absent(clock.now())
            except Exception:
                log.exception("cannot move on the offers left ringing or absent seats; retrying")

    def _remote(self, notices: list[Notice]) -> None:
        """Another replica changed the floor: tell this replica's browsers."""
        if any(n.kind == "queues" for n in notices):
            task = asyncio.create_task(self._remote_with_floor(notices))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self.deliver(notices)

    async def _remote_with_floor(self, notices: list[Notice]) -> None:
        try:
            floor = await self.read()
        except Exception:
            log.exception("cannot read the floor after another replica changed it")
            return
        self.deliver(notices, floor)

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        if self.store is not None:
            await self.store.listen(self._remote)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id="console-live",
            auto_offset_reset="latest",
            enable_auto_commit=True,
            **kafka_auth(),
        )
        await self._consumer.start()
        pace_fetches(self._consumer, self.fetch_pace_seconds, counted_as="console-live")
        hub = self

        class Pin(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):
                hub._positioned.clear()

            async def on_partitions_assigned(self, assigned):
                # Resolve "latest" now, so that an event published after readiness is never skipped.
                assert hub._consumer is not None, "assigned partitions come from the consumer"
                for tp in assigned:
                    await hub._consumer.position(tp)
                if assigned:
                    hub._positioned.set()

        self._consumer.subscribe(
            [prefixed(self.prefix, t.name) for t in LIVE_TOPICS], listener=Pin()
        )
        self._task = asyncio.create_task(self._run(), name="console-live")
        self._floor_watch = asyncio.create_task(self._watch_floor(), name="console-floor-watch")

    async def stop(self) -> None:
        for task in (self._task, self._floor_watch):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._consumer:
            await self._consumer.stop()
        if self.store is not None:
            await self.store.close()
        for sub in list(self.subscribers):
            sub.queue.put_nowait(None)

    async def ready(self) -> bool:
        return self._task is not None and not self._task.done() and self._positioned.is_set()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live consumer failed to fetch; retrying")
                await asyncio.sleep(1)
                continue
            for records in batch.values():
                for record in records:
                    try:
                        event = from_record(record.key, record.value, list(record.headers or ()))
                    except InvalidEvent:
                        continue
                    try:
                        await self.on_event(
                            event.type, event.subject, event.time, event.data, event.id
                        )
                    except Exception:
                        log.exception("live view could not apply %s", event.type)

    # ---------------------------------------------------------------- events in
    async def on_event(
        self, event_type: str, subject: str, at: datetime, data: dict, event_id: str = ""
    ) -> None:
        kind = short_type(event_type)
        message = {
            "kind": "event",
            "type": kind,
            "event_type": event_type,
            "id": event_id,
            "subject": subject,
            "time": at.isoformat(),
            "data": public_data(data),
        }
        self.recent.append(message)
        self.broadcast(message)

    async def apply_state_event(self, kind: str, data: dict, now: datetime) -> None:
        """An event that changes what the console keeps (the floor's calls, escalation outcomes),
        handed over by the durable feed (brightline.console.state_feed), once per event."""
        if kind in ("call.ringing", "call.answered", "call.ended"):
            await self._apply_call_event(kind, data, now)
        elif kind.startswith("escalation.") and self.engine is not None:
            await desk_store.record_escalation(self.engine, kind, data)

    async def oldest_call(self) -> datetime | None:
        """When the longest-kept call on the floor rang: where a new state feed starts."""
        floor = await self.read()
        return min((c.rang_at for c in floor.calls.values()), default=None)

    async def _apply_call_event(self, kind: str, data: dict, now: datetime) -> None:
        async with self.change() as step:
            if kind == "call.ringing":
                step.add(
                    step.floor.call_ringing(
                        data["call_id"],
                        data.get("queue") or "95598",
                        _dt(data.get("rang_at")) or now,
                        data.get("caller_number"),
                        now,
                    )
                )
            elif kind == "call.answered":
                step.add(
                    step.floor.call_answered(
                        data["call_id"],
                        data.get("agent_id"),
                        _dt(data.get("answered_at")) or now,
                        now,
                    )
                )
            elif kind == "call.ended":
                step.add(step.floor.call_ended(data["call_id"], data.get("cause") or "normal", now))

    # ---------------------------------------------------------------- out to browsers
    def deliver(self, notices: list[Notice], floor: Floor | None = None) -> None:
        floor = floor or self.floor
        for notice in notices:
            if notice.kind == "queues":
                self.broadcast({"kind": "floor", "floor": floor.snapshot(clock.now())})
            else:
                self.broadcast({"kind": notice.kind, "data": notice.data}, target=notice.target)

    def broadcast(self, message: dict, target: str | None = None) -> None:
        for sub in list(self.subscribers):
            if sub.wants(target) and (target is not None or self._for_everyone(sub, message)):
                try:
                    sub.queue.put_nowait(message)
                except asyncio.QueueFull:
                    log.warning("a browser is not reading its event stream; dropping it")
                    self.subscribers.discard(sub)
                    sub.queue = asyncio.Queue(maxsize=1)
                    sub.queue.put_nowait(None)

    @staticmethod
    def _for_everyone(sub: Subscriber, message: dict) -> bool:
        # Agents get their own seat and the public feed; the whole floor only goes to supervisors.
        if message["kind"] == "floor":
            return sub.principal.has(Role.SUPERVISOR)
        if message["kind"] == "agent":
            return (
                sub.principal.has(Role.SUPERVISOR)
                or message["data"].get("agent_id") == sub.principal.subject
            )
        return True

    def missed(self, last_event_id: str | None) -> list[dict] | None:
        """The events a browser missed after `last_event_id` (its Last-Event-ID on reconnecting),
        oldest first; None when that event has left the recent window (or was seen by another
        replica): the browser then reloads its views instead."""
        if not last_event_id:
            return []
        ids = [m.get("id") for m in self.recent]
        if last_event_id not in ids:
            return None
        return list(self.recent)[ids.index(last_event_id) + 1 :]

    async def stream(
        self, principal: Principal, heartbeat: float = 15.0, last_event_id: str | None = None
    ) -> AsyncIterator[str]:
        sub = Subscriber(principal)
        # Subscribed and the missed events taken with no await between: none falls in the gap.
        self.subscribers.add(sub)
        missed = self.missed(last_event_id)
        try:
            try:  # the desk is there from its first byte, not from the next sweep
                await self.seen([principal.subject], clock.now())
            except Exception:
                log.exception("cannot note %s's desk as seen", principal.subject)
            yield sse({"kind": "hello", "subject": principal.subject, "group": self.group_id})
            if missed is None:
                yield sse({"kind": "resync"})
            for message in missed or []:
                if self._for_everyone(sub, message):
                    yield sse(message)
            while True:
                try:
                    message = await asyncio.wait_for(sub.queue.get(), timeout=heartbeat)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if message is None:
                    return
                yield sse(message)
        finally:
            self.subscribers.discard(sub)


def sse(message: dict) -> str:
    # Events carry their id, which the browser sends back as Last-Event-ID when it reconnects.
    head = f"id: {message['id']}\n" if message.get("kind") == "event" and message.get("id") else ""
    return f"{head}event: {message['kind']}\ndata: {json.dumps(message, ensure_ascii=False, default=str)}\n\n"


def _dt(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
