"""Kafka clients configured the one way Brightline uses them, and topic creation."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


def prefixed(prefix: str, topic: str) -> str:
    """A prefix lets several test sessions or tenants share one cluster without crosstalk."""
    return f"{prefix}{topic}"


def create_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    # Idempotence (acks=all, sequence numbers) keeps retries from duplicating or reordering
    # records within a partition; the outbox relay relies on that for order per key.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        linger_ms=2,
        request_timeout_ms=15000,
    )


async def ensure_topics(
    bootstrap_servers: str, names: list[str], *, partitions: int = 12, replication: int = 1
) -> None:
    """Create the topics that are missing; existing ones are left exactly as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if not missing:
            return
        try:
            await admin.create_topics(
                [
                    NewTopic(n, num_partitions=partitions, replication_factor=replication)
                    for n in missing
                ]
            )
        except TopicAlreadyExistsError:
            pass  # another service created them between our list and our create
        log.info("created topics %s", missing)
    finally:
        await admin.close()
