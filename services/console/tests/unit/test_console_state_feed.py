"""The state feed retries an event the floor could not take (the database away) and, when the
same event fails every time, skips it rather than stop every call behind it. Pure: a stand-in
consumer records seeks and commits."""

from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from cryptography.fernet import Fernet

from brightline.console import state_feed
from brightline.console.state_feed import ATTEMPTS, StateFeed
from brightline.contracts import new_event, to_record
from brightline.contracts.events.intake import CallEndedV1
from brightline.contracts.sealed import PersonalDataSeal

TP = TopicPartition("intake.calls", 0)


class Consumer:
    def __init__(self) -> None:
        self.seeks: list[int] = []
        self.commits: list[int] = []

    def seek(self, tp, offset) -> None:
        self.seeks.append(offset)

    async def commit(self, offsets) -> None:
        self.commits.append(offsets[TP].offset)


def record(offset: int, call_id: str) -> ConsumerRecord:
    event = new_event(
        CallEndedV1(
            call_id=call_id,
            queue="95598",
            cause="abandoned",
            rang_at=None,
            answered_at=None,
            ended_at=datetime.now(UTC),
        ),
        source="/brightline/intake",
    )
    kafka = to_record(event)
    return ConsumerRecord(
        TP.topic, 0, offset, 0, 0, kafka.key, kafka.value, None, 0, 0, kafka.headers
    )


def feed(apply) -> StateFeed:
    seal = PersonalDataSeal(Fernet.generate_key().decode())

    async def nothing_kept() -> None:
        return None

    return StateFeed("unused:9092", "", seal, apply, nothing_kept, fetch_pace_seconds=0)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(state_feed, "RETRY_SECONDS", 0)


async def test_a_passing_failure_is_retried_and_nothing_is_skipped():
    applied, fails = [], {"c1": 2}

    async def apply(kind, data, now):
        if fails.get(data["call_id"], 0):
            fails[data["call_id"]] -= 1
            raise ConnectionError("database away")
        applied.append(data["call_id"])

    consumer, the_feed = Consumer(), feed(apply)
    records = [record(0, "c0"), record(1, "c1"), record(2, "c2")]
    await the_feed._apply_partition(consumer, TP, records)  # type: ignore[arg-type]
    assert applied == ["c0"] and consumer.seeks == [1] and consumer.commits == [1]
    for _ in range(2):  # the consumer fetches again from the record it was sent back to
        await the_feed._apply_partition(consumer, TP, records[1:])  # type: ignore[arg-type]
    assert applied == ["c0", "c1", "c2"] and consumer.commits[-1] == 3


async def test_an_event_that_fails_every_time_is_skipped_after_its_attempts():
    applied: list[str] = []

    async def apply(kind, data, now):
        if data["call_id"] == "bad":
            raise KeyError("agent_id")
        applied.append(data["call_id"])

    consumer, the_feed = Consumer(), feed(apply)
    records = [record(5, "bad"), record(6, "c6")]
    for _ in range(ATTEMPTS):
        await the_feed._apply_partition(consumer, TP, records)  # type: ignore[arg-type]
    assert consumer.seeks == [5] * (ATTEMPTS - 1)
    assert applied == ["c6"] and consumer.commits == [7]
    assert not the_feed._failures
