"""Retention: the scheduled job deletes published outbox rows, inbox rows and idempotency keys
past their windows, in batches, keeps everything newer (and every unpublished outbox row), and
moves its metrics; the topics carry a retention shorter than the inbox window, so a redelivery
can never outlive the inbox row that makes it harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import REGISTRY
from pydantic import ValidationError

from brightline.messaging import ensure_topics
from brightline.messaging.retention import RetentionJob, RetentionSettings, topic_configs_for
from brightline.messaging.schema import idempotency_keys, inbox, outbox
from brightline.messaging.schema import metadata as messaging_metadata
from brightline.platform.db import create_engine, database_url, ensure_database
from brightline.platform.testing import eventually

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
async def engine(postgres_server, db_name):
    name = db_name("retention")
    await ensure_database(postgres_server, name)
    engine = create_engine(database_url(postgres_server, name), pool_size=2)
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
    yield engine
    await engine.dispose()


def outbox_row(i: int, *, created: datetime, published: datetime | None) -> dict:
    return {
        "event_id": f"e-{i}",
        "event_type": "brightline.intake.ticket.recorded.v1",
        "topic": "intake.tickets",
        "key": f"t-{i}",
        "source": "/test",
        "occurred_at": created,
        "data": {"ticket_id": f"t-{i}", "phone": "13912345678"},
        "created_at": created,
        "published_at": published,
    }


def metric(name: str, service: str, table: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": service, "table": table}) or 0.0


async def count(engine, table) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(table))


async def test_job_deletes_aged_rows_in_batches_keeps_newer_and_moves_metrics(engine, report):
    old = NOW - timedelta(days=45)
    recent = NOW - timedelta(days=2)
    async with engine.begin() as conn:
        await conn.execute(
            outbox.insert(),
            [outbox_row(i, created=old, published=old) for i in range(23)]  # aged, published
            + [outbox_row(100 + i, created=old, published=None) for i in range(3)]  # owed
            + [outbox_row(200 + i, created=recent, published=recent) for i in range(4)],
        )
        await conn.execute(
            inbox.insert(),
            [
                {"consumer": "c", "event_id": f"in-{i}", "event_type": "x", "processed_at": old}
                for i in range(17)
            ]
            + [
                {"consumer": "c", "event_id": f"new-{i}", "event_type": "x", "processed_at": recent}
                for i in range(5)
            ],
        )
        key = {"scope": "s", "request_hash": "h", "status_code": 201, "body": {"phone": "1"}}
        await conn.execute(
            idempotency_keys.insert(),
            [{**key, "key": f"old-{i}", "created_at": NOW - timedelta(days=8)} for i in range(9)]
            + [
                {**key, "key": f"new-{i}", "created_at": NOW - timedelta(hours=1)} for i in range(2)
            ],
        )

    service = f"retention-test-{id(engine)}"
    before = {
        t: metric("brightline_retention_rows_deleted_total", service, t)
        for t in ("outbox", "inbox", "idempotency_keys")
    }
    job = RetentionJob(engine, service, RetentionSettings(batch_size=5), clock=lambda: NOW)
    deleted = await job.run_once()

    assert deleted == {"outbox": 23, "inbox": 17, "idempotency_keys": 9}
    async with engine.connect() as conn:
        left = set(await conn.scalars(sa.select(outbox.c.event_id)))
        assert left == {f"e-{100 + i}" for i in range(3)} | {f"e-{200 + i}" for i in range(4)}
        assert set(await conn.scalars(sa.select(inbox.c.event_id))) == {
            f"new-{i}" for i in range(5)
        }
        assert set(await conn.scalars(sa.select(idempotency_keys.c.key))) == {"new-0", "new-1"}
    for table, gone, kept in (("outbox", 23, 7), ("inbox", 17, 5), ("idempotency_keys", 9, 2)):
        assert (
            metric("brightline_retention_rows_deleted_total", service, table) - before[table]
            == gone
        )
        assert metric("brightline_retention_rows_kept", service, table) == kept
    assert REGISTRY.get_sample_value(
        "brightline_retention_last_run_timestamp_seconds", {"service": service}
    )
    report(f"retention: deleted {deleted} in batches of 5; kept outbox 7, inbox 5, keys 2")

    # A second run finds nothing more to delete.
    assert await job.run_once() == {"outbox": 0, "inbox": 0, "idempotency_keys": 0}


async def test_scheduled_job_runs_on_its_own(engine):
    from brightline.platform.testing import eventually

    async with engine.begin() as conn:
        await conn.execute(
            inbox.insert(),
            [
                {
                    "consumer": "c",
                    "event_id": "old",
                    "event_type": "x",
                    "processed_at": datetime.now(UTC) - timedelta(days=90),
                }
            ],
        )
    job = RetentionJob(engine, "retention-loop", RetentionSettings(interval_seconds=0.2))
    job.start()
    try:
        await eventually(lambda: _empty(engine))
    finally:
        await job.stop()


async def _empty(engine) -> bool:
    return await count(engine, inbox) == 0


def test_an_inbox_window_a_redelivery_could_outlive_is_refused():
    """A redelivery is harmless only while its inbox row exists: the settings refuse an inbox
    window not longer than the topics' retention plus one segment plus grace."""
    with pytest.raises(ValidationError, match="RETENTION_INBOX_DAYS"):
        RetentionSettings(inbox_days=7, topic_retention_days=7)
    with pytest.raises(ValidationError, match="RETENTION_INBOX_DAYS"):
        RetentionSettings(inbox_days=8.5, topic_retention_days=7, topic_segment_days=1)
    settings = RetentionSettings()
    assert settings.inbox_days > settings.topic_retention_days + settings.topic_segment_days


async def test_topics_are_created_with_a_retention_shorter_than_the_inbox_window(
    kafka_bootstrap, topic_prefix
):
    settings = RetentionSettings()
    names = [f"{topic_prefix}retention.topic", f"{topic_prefix}retention.topic.dlt"]
    await ensure_topics(kafka_bootstrap, names, configs=topic_configs_for(names, settings))
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()

    async def described() -> dict[str, dict[str, str]] | None:
        """Both topics' configs, once the broker answered for both: a broker that has not yet
        learnt of a topic just created answers for it with an error code and no entries."""
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        )
        found: dict[str, dict[str, str]] = {}
        for response in responses:
            for code, _msg, _type, name, entries in response.resources:
                if code == 0 and entries:
                    found[name] = {entry[0]: entry[1] for entry in entries}
        return found if set(found) == set(names) else None

    try:
        found = await eventually(described)
    finally:
        await admin.close()
    day_ms = 86_400_000
    topic, dlt = found[names[0]], found[names[1]]
    assert int(topic["retention.ms"]) == 7 * day_ms
    assert int(topic["segment.ms"]) == day_ms
    assert int(dlt["retention.ms"]) == 30 * day_ms
    # A record lives at most retention.ms + segment.ms on the broker; its inbox row longer.
    assert int(topic["retention.ms"]) + int(topic["segment.ms"]) < settings.inbox_days * day_ms
