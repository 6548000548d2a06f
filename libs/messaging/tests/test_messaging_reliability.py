"""The backbone loses nothing and applies nothing twice, with a relay or a consumer killed
(SIGKILL) mid-stream, and a poison record ends in the dead-letter topic while the rest flows."""

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from brightline.contracts.topics import INTAKE_TICKETS
from brightline.messaging import EventConsumer, UnitOfWork, create_producer, ensure_topics, prefixed
from brightline.messaging.schema import metadata as messaging_metadata
from brightline.messaging.testing import events_of, publish, read_topic
from brightline.messaging.testing import sample_ticket as ticket
from brightline.platform.db import create_engine, database_url, ensure_database, session_factory
from brightline.platform.testing import eventually

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("messaging_worker.py")
N = 600


@pytest.fixture
async def database(postgres_server, db_name):
    name = db_name("messaging")
    await ensure_database(postgres_server, name)
    url = database_url(postgres_server, name)
    engine = create_engine(url, pool_size=8)
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.execute(text("CREATE TABLE applied (event_id text NOT NULL)"))
    yield url, engine
    await engine.dispose()


def start_worker(role: str, url: str, bootstrap: str, prefix: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), role, url, bootstrap, prefix],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout.readline().strip() == b"started", "worker did not start"
    return process


async def scalar(engine, sql: str) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql))


async def test_relay_killed_mid_stream_loses_nothing(
    database, kafka_bootstrap, topic_prefix, report
):
    url, engine = database
    prefix = topic_prefix + "relaykill."
    await ensure_topics(kafka_bootstrap, [prefixed(prefix, INTAKE_TICKETS.name)])
    async with UnitOfWork(session_factory(engine), source="/test") as uow:
        for i in range(N):  # 50 keys, 12 events each, numbered in write order
            uow.emit(ticket(i, key=f"t-{i % 50}", description=str(i)))
        await uow.commit()
    written = {e.id for e in uow.committed}

    relay = start_worker("relay", url, kafka_bootstrap, prefix)
    await eventually(
        lambda: scalar(engine, "SELECT count(*) >= 100 FROM outbox WHERE published_at IS NOT NULL"),
        interval=0.01,
    )
    relay.kill()  # SIGKILL between batches or inside one: no cleanup runs
    relay.wait()
    published_before_restart = await scalar(
        engine, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"
    )
    assert published_before_restart < N, (
        "the relay finished before it was killed; the test proved nothing"
    )

    relay = start_worker("relay", url, kafka_bootstrap, prefix)
    try:
        await eventually(
            lambda: scalar(engine, "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")
        )
    finally:
        relay.kill()
        relay.wait()
    records = await read_topic(kafka_bootstrap, prefixed(prefix, INTAKE_TICKETS.name), expect=N)
    on_topic = {e.id for e in events_of(records)}
    report(
        f"relay kill: {N} written, {published_before_restart} published before SIGKILL, "
        f"{len(records)} records on the topic, {len(on_topic)} distinct, {len(written - on_topic)} lost"
    )
    assert on_topic == written  # nothing lost (a re-sent record is a duplicate the inbox absorbs)

    # Order per key: each ticket's events arrive in the order they were written (a re-sent
    # duplicate may repeat an earlier one, but never overtakes it).
    per_key: dict[str, list[int]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        [event] = events_of([r])
        sequence = per_key.setdefault(event.subject, [])
        number = int(event.data["description"])
        if number not in sequence:
            sequence.append(number)
    assert len(per_key) == 50
    assert all(seq == sorted(seq) for seq in per_key.values())


async def test_consumer_killed_mid_stream_applies_each_event_once(
    database, kafka_bootstrap, topic_prefix, report
):
    url, engine = database
    prefix = topic_prefix + "consumerkill."
    events = await publish(kafka_bootstrap, prefix, *(ticket(i) for i in range(N)))

    consumer = start_worker("consume", url, kafka_bootstrap, prefix)
    await eventually(lambda: scalar(engine, "SELECT count(*) >= 150 FROM applied"), interval=0.01)
    consumer.kill()
    consumer.wait()
    applied_before_restart = await scalar(engine, "SELECT count(*) FROM applied")
    assert applied_before_restart < N, (
        "the consumer finished before it was killed; the test proved nothing"
    )

    consumer = start_worker("consume", url, kafka_bootstrap, prefix)
    try:
        await eventually(
            lambda: scalar(engine, f"SELECT count(DISTINCT event_id) = {N} FROM applied")
        )
        await asyncio.sleep(2)  # give any redelivery the chance to apply twice
    finally:
        consumer.kill()
        consumer.wait()
    total = await scalar(engine, "SELECT count(*) FROM applied")
    distinct = await scalar(engine, "SELECT count(DISTINCT event_id) FROM applied")
    report(
        f"consumer kill: {N} published, {applied_before_restart} applied before SIGKILL, "
        f"{total} applications, {distinct} distinct"
    )
    assert distinct == N == len(events)  # none lost
    assert total == N  # none applied twice


async def test_poison_record_goes_to_dead_letter_topic_and_consumer_goes_on(
    database, kafka_bootstrap, topic_prefix
):
    _, engine = database
    prefix = topic_prefix + "poison."
    topic = prefixed(prefix, INTAKE_TICKETS.name)
    await ensure_topics(kafka_bootstrap, [topic, topic + ".dlt"])
    attempts: list[str] = []

    async def apply(event, uow) -> None:
        if event.payload().description == "poison":
            attempts.append(event.id)
            raise ValueError("cannot apply this ticket")
        await uow.session.execute(
            text("INSERT INTO applied (event_id) VALUES (:id)"), {"id": event.id}
        )

    producer = create_producer(kafka_bootstrap, "poison-test")
    await producer.start()
    # Not a CloudEvent at all, then one that fails in its handler, then a good one.
    await producer.send_and_wait(topic, key=b"t-0", value=b"\x00garbage")
    [poison] = await publish(kafka_bootstrap, prefix, ticket(1, description="poison"))
    [good] = await publish(kafka_bootstrap, prefix, ticket(1, description="fine"))
    consumer = EventConsumer(
        name="poison-consumer",
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        topics=[INTAKE_TICKETS],
        routes={"brightline.intake.ticket.recorded.v1": apply},
        session_factory=session_factory(engine),
        dead_letter_producer=producer,
        source="/test",
        max_attempts=3,
        retry_backoff=0.05,
    )
    await consumer.start()
    try:
        await eventually(
            lambda: scalar(engine, f"SELECT count(*) FROM applied WHERE event_id = '{good.id}'")
        )
    finally:
        await consumer.stop()
        await producer.stop()
    dead = await read_topic(kafka_bootstrap, topic + ".dlt", expect=2)
    assert len(dead) == 2
    by_error = {dict(r.headers)["dlt_error_class"]: r for r in dead}
    assert set(by_error) == {b"InvalidEvent", b"ValueError"}
    headers = dict(by_error[b"ValueError"].headers)
    assert headers["dlt_error_class"] == b"ValueError"
    assert b"cannot apply this ticket" in headers["dlt_error_message"]
    assert headers["dlt_attempts"] == b"3"
    assert headers["dlt_original_topic"] == topic.encode()
    assert headers["ce_id"] == poison.id.encode()
    assert by_error[b"InvalidEvent"].value == b"\x00garbage"
    assert attempts == [poison.id] * 3
    assert await scalar(engine, f"SELECT count(*) FROM inbox WHERE event_id = '{poison.id}'") == 0
