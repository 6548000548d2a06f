"""A service that starts while its broker is away (not listening yet, restarting, closing
connections) waits for it instead of exiting: ensure_topics, the first thing it asks of the
broker, asks again with a doubling wait."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from brightline.messaging.kafka import ensure_topics
from brightline.platform.local.paths import free_port


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def forward_to(target: str, port: int) -> asyncio.Server:
    """127.0.0.1:`port` passed through to the broker: its first address, once it listens."""
    host, target_port = target.split(":")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(target_port))
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    return await asyncio.start_server(serve, "127.0.0.1", port)


async def test_a_service_starting_before_its_broker_listens_waits_for_it(
    kafka_bootstrap, topic_prefix
):
    port = free_port()
    name = f"{topic_prefix}away.at-start"
    ensuring = asyncio.create_task(ensure_topics(f"127.0.0.1:{port}", [name], partitions=2))
    await asyncio.sleep(1.2)  # refused at least twice: nothing listens on the port yet
    assert not ensuring.done(), "gave up while the broker was away"
    server = await forward_to(kafka_bootstrap, port)
    try:
        await ensuring
    finally:
        server.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        assert name in await admin.list_topics()
    finally:
        await admin.close()


async def test_a_broker_that_never_comes_fails_the_start_after_the_attempts(topic_prefix):
    port = free_port()
    try:
        await ensure_topics(f"127.0.0.1:{port}", [f"{topic_prefix}never"], attempts=2)
    except KafkaConnectionError:
        return
    raise AssertionError("a start with no broker at all succeeded")
