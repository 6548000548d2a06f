"""`python -m brightline.records rebuild`: replay every topic from its beginning into a fresh
database, then check that it ends equal to the live view.

The replay is the service's own consumer (same routes, same inbox, same handlers) under a
consumer group of its own, run until it has committed the end offsets taken when it started.
The check waits until the live consumer group has committed at least those offsets too, then
compares an order-independent checksum of every row of the read model in both databases. When
events kept arriving meanwhile, both catch up to the new end and are compared again (a few
rounds); a view that still differs once the topics are quiet is reported, with the exit code 1.

Exit codes: 0 rebuilt (and equal, when checked), 1 rebuilt but different, 2 could not finish.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from brightline.messaging import EventConsumer, create_producer, ensure_topics, prefixed
from brightline.messaging.kafka import contract_partitions, kafka_auth
from brightline.platform.db import (
    create_engine,
    database_url,
    ensure_database,
    server_url,
    session_factory,
)
from brightline.platform.logging import configure_logging
from brightline.platform.migrations import upgrade_async
from brightline.records import consumers, handlers
from brightline.records.main import SERVICE_DIR
from brightline.records.settings import RecordsSettings

log = logging.getLogger(__name__)

# Every table of the read model, with the columns that make a row (all of them). The inbox and
# the audit of reads are not part of the view: they differ by design.
VIEW_TABLES = {
    "tickets": "SELECT t.* FROM tickets t",
    "timeline": "SELECT t.* FROM timeline t",
    "ticket_incidents": "SELECT t.* FROM ticket_incidents t",
}


async def end_offsets(
    bootstrap: str, admin: AIOKafkaAdminClient, topics: list[str]
) -> dict[TopicPartition, int]:
    """The end offset of every partition of the topics, now."""
    described = await admin.describe_topics(topics)
    partitions = [
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if t["error_code"] == 0
        for p in t["partitions"]
    ]
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_auth())
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def caught_up(
    admin: AIOKafkaAdminClient, group: str, ends: dict[TopicPartition, int]
) -> bool:
    committed = await admin.list_consumer_group_offsets(group)
    for tp, end in ends.items():
        if end > 0 and (tp not in committed or committed[tp].offset < end):
            return False
    return True


async def wait_caught_up(
    admin: AIOKafkaAdminClient, group: str, ends: dict[TopicPartition, int], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not await caught_up(admin, group, ends):
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"consumer group {group} did not reach the end offsets in {timeout}s"
            )
        await asyncio.sleep(0.5)


async def digest(url: str) -> dict[str, tuple[int, int]]:
    """Per table: (rows, sum of a 60-bit hash of each row's text) — equal views, equal digests,
    whatever order the rows were written in."""
    engine = create_engine(url, pool_size=2)
    try:
        async with engine.connect() as conn:
            out = {}
            for table, select in VIEW_TABLES.items():
                row = (
                    await conn.execute(
                        text(
                            f"SELECT count(*), coalesce(sum(('x' || substr(md5(v::text), 1, 15))"
                            f"::bit(60)::bigint), 0) FROM ({select}) v"
                        )
                    )
                ).one()
                out[table] = (int(row[0]), int(row[1]))
            return out
    finally:
        await engine.dispose()


async def recreate(server: str, name: str) -> str:
    admin = create_async_engine(database_url(server, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
    await ensure_database(server, name)
    url = database_url(server, name)
    await upgrade_async(SERVICE_DIR, url)
    return url


async def rebuild(
    settings: RecordsSettings, target: str, *, check: bool, timeout: float, rounds: int = 5
) -> int:
    server = await asyncio.to_thread(server_url, settings.database_url)
    if target == settings.database_name:
        print("refusing to rebuild into the live database; name another with --database")
        return 2
    url = await recreate(server, target)
    print(f"fresh database {target}: migrated", flush=True)
    prefix = settings.kafka_topic_prefix
    topic_names = [prefixed(prefix, t.name) for t in consumers.TOPICS]
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        topic_names,
        partitions=settings.kafka_partitions,
        sizes=contract_partitions(prefix, settings.kafka_partitions),
    )
    engine = create_engine(url, pool_size=4)
    producer = create_producer(settings.kafka_bootstrap_servers, f"{settings.service_name}-rebuild")
    bus = handlers.message_bus()
    group = f"{settings.service_name}-rebuild-{uuid.uuid4().hex[:8]}"
    replay = EventConsumer(
        name=group,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic_prefix=prefix,
        topics=consumers.TOPICS,
        routes=bus.routes(consumers.TRANSLATORS, opening=settings.personal_data_seal().opening),
        fallback=bus.route(consumers.FALLBACK, settings.personal_data_seal().opening),
        session_factory=session_factory(engine),
        dead_letter_producer=producer,
        source=f"/brightline/{settings.service_name}",
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, **kafka_auth())
    await admin.start()
    await producer.start()
    try:
        ends = await end_offsets(settings.kafka_bootstrap_servers, admin, topic_names)
        print(f"replaying {sum(ends.values())} records from {len(ends)} partitions", flush=True)
        started = time.monotonic()
        await replay.start()
        await wait_caught_up(admin, group, ends, timeout)
        print(
            f"replayed into {target} in {time.monotonic() - started:.1f}s "
            f"({replay.handled_total} events handled)",
            flush=True,
        )
        if not check:
            return 0
        live_url = database_url(server, settings.database_name)
        for _ in range(rounds):
            await wait_caught_up(admin, settings.service_name, ends, timeout)
            live, rebuilt = await digest(live_url), await digest(url)
            if live == rebuilt:
                counts = ", ".join(f"{t} {n}" for t, (n, _) in rebuilt.items())
                print(f"EQUAL: the rebuilt view equals the live view ({counts})", flush=True)
                return 0
            newer = await end_offsets(settings.kafka_bootstrap_servers, admin, topic_names)
            if newer == ends:
                break
            ends = newer  # events arrived meanwhile: both catch up, then compare again
            await wait_caught_up(admin, group, ends, timeout)
        for table in VIEW_TABLES:
            if live[table] != rebuilt[table]:
                print(
                    f"DIFFERENT: {table}: live {live[table][0]} rows, rebuilt {rebuilt[table][0]} "
                    "rows (or equal counts, different contents)",
                    flush=True,
                )
        return 1
    except TimeoutError as error:
        print(f"could not finish: {error}", flush=True)
        return 2
    finally:
        await replay.stop()
        await producer.stop()
        await admin.close()
        await engine.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m brightline.records rebuild")
    parser.add_argument(
        "--database",
        help="the fresh database to replay into (dropped first); default <live database>_rebuild",
    )
    parser.add_argument(
        "--no-check", action="store_true", help="replay only; do not compare with the live view"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds to wait for either side to catch up"
    )
    args = parser.parse_args(argv)
    settings = RecordsSettings()
    configure_logging(settings.service_name, level="WARNING", json=settings.log_json)
    target = args.database or f"{settings.database_name}_rebuild"
    return asyncio.run(rebuild(settings, target, check=not args.no_check, timeout=args.timeout))
