"""The scheduler's round writes its state changes in one batch, and its sleep ends early when a
sooner fire time is announced (Wakeup)."""

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from brightline.sla_monitor import handlers
from brightline.sla_monitor.adapters.repository import MemoryStore
from brightline.sla_monitor.domain.monitor import Open, open_tracked
from brightline.sla_monitor.scheduler import Wakeup

SH = ZoneInfo("Asia/Shanghai")
BOOK = handlers.policy_book(("seed",), ())
T0 = datetime(2025, 3, 3, 10, tzinfo=SH)


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.single_saves = 0
        self.batches: list[int] = []

    async def save(self, tracked) -> None:
        self.single_saves += 1
        await super().save(tracked)

    async def save_many(self, batch) -> None:
        self.batches.append(len(batch))
        for tracked in batch:
            await MemoryStore.save(self, tracked)


async def test_a_round_saves_its_changes_in_one_batch():
    store = CountingStore()
    for i in range(5):
        tracked, _ = open_tracked(
            Open(
                limit_key="repair.arrival.urban",
                subject_type="work_order",
                subject_id=f"wo{i}",
                ticket_id=f"t{i}",
                at=T0,
            ),
            BOOK,
        )
        await store.add(tracked)
    first = await store.next_fire_at()
    assert first == min(t.next_fire_at for t in store.rows.values()) and first > T0
    emitted = []
    moved = await handlers.tick(T0 + timedelta(hours=2), store, emitted.append, batch=3)
    assert moved == 3 and store.batches == [3] and store.single_saves == 0
    moved = await handlers.tick(T0 + timedelta(hours=2), store, emitted.append, batch=3)
    assert moved == 2 and store.batches == [3, 2] and store.single_saves == 0
    assert {t.state for t in store.rows.values()} == {"breached"}
    assert [type(e).__name__ for e in emitted].count("DeadlineBreachedV1") >= 5
    assert await store.next_fire_at() is None  # breached, no escalation left: nothing more to fire


async def test_a_sooner_fire_time_ends_the_sleep():
    wakeup = Wakeup()
    now = datetime.now(UTC)
    sleeper = asyncio.create_task(
        wakeup.sleep_until(now + timedelta(hours=1), lambda: datetime.now(UTC))
    )
    await asyncio.sleep(0)
    wakeup.notify(None)  # a deadline with nothing to fire
    wakeup.notify(now + timedelta(hours=2))  # later than planned: no reason to wake
    assert not sleeper.done() and wakeup.planned == now + timedelta(hours=1)
    wakeup.notify(now)  # due already
    await asyncio.wait_for(sleeper, 10)  # without the notify this sleeps an hour
    assert wakeup.hint == now and wakeup.planned is None


async def test_a_notify_while_the_round_runs_is_kept_as_a_hint():
    wakeup = Wakeup()
    later = datetime.now(UTC) + timedelta(minutes=5)
    wakeup.notify(later + timedelta(minutes=1))
    wakeup.notify(later)
    assert wakeup.hint == later  # the loop plans its next wake-up at the earliest of these


async def test_a_round_that_took_a_due_hint_runs_again_after_the_next_commit():
    """A consumer's notify precedes its commit: the round the due hint triggered may have missed the
    row, so the consumer's next commit asks for one more round (and only one)."""
    wakeup = Wakeup()
    now = datetime.now(UTC)
    wakeup.notify(now)
    wakeup.committed()  # no round took the hint yet: nothing to recheck
    assert wakeup.hint == now and not wakeup.recheck
    wakeup.take_due_hint(now + timedelta(seconds=1))
    assert wakeup.hint is None and wakeup.recheck
    sleeper = asyncio.create_task(
        wakeup.sleep_until(now + timedelta(hours=1), lambda: datetime.now(UTC))
    )
    await asyncio.sleep(0)
    wakeup.committed()
    await asyncio.wait_for(sleeper, 10)
    assert wakeup.hint is not None and not wakeup.recheck
    wakeup.take_due_hint(datetime.now(UTC) + timedelta(seconds=1))
    wakeup.recheck = False
    wakeup.committed()
    assert wakeup.hint is None
