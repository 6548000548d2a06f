"""Kafka clients configured the one way Brightline uses them, and topic creation."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
    TopicAlreadyExistsError,
)

from brightline.contracts.topics import topic_partitions
from brightline.messaging import metrics
from brightline.messaging.fetch_sessions import (
    FetchSession,
    SessionFetchRequest,
    use_fetch_sessions,
)

log = logging.getLogger(__name__)


def prefixed(prefix: str, topic: str) -> str:
    """A prefix lets several test sessions or tenants share one cluster without crosstalk."""
    return f"{prefix}{topic}"


def kafka_auth() -> dict[str, str]:
    """Client authentication from the environment, for every Kafka client of a service:
    KAFKA_SECURITY_PROTOCOL (SASL_PLAINTEXT or SASL_SSL), KAFKA_SASL_MECHANISM (SCRAM-SHA-256
    by default), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD. Nothing set: a plaintext client."""
    import os

    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    if protocol == "PLAINTEXT":
        return {}
    auth = {
        "security_protocol": protocol,
        "sasl_mechanism": os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256"),
        "sasl_plain_username": os.environ["KAFKA_SASL_USERNAME"],
        "sasl_plain_password": os.environ["KAFKA_SASL_PASSWORD"],
    }
    if protocol == "SASL_SSL":
        from aiokafka.helpers import create_ssl_context

        auth["ssl_context"] = create_ssl_context(cafile=os.environ.get("KAFKA_SSL_CAFILE"))
    return auth


def create_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    # Idempotence (acks=all, sequence numbers) keeps retries from duplicating or reordering
    # records within a partition; the outbox relay relies on that for order per key.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        linger_ms=2,
        request_timeout_ms=15000,
        **kafka_auth(),
    )


def contract_partitions(prefix: str, default: int) -> dict[str, int]:
    """Partitions of every contract topic and dead-letter twin (prefixed) when created, the
    deployment's KAFKA_PARTITIONS being `default` (see Topic.partitions)."""
    return {prefixed(prefix, name): n for name, n in topic_partitions(default).items()}


# What a broker that is starting, restarting or busy answers: no listener yet, a connection
# it closed, a request it did not answer in time. At a service's start these are waited out.
BROKER_AWAY = (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError)
# Attempts of ensure_topics and the waits between them: 0.5 s doubling, about 30 s in all.
ENSURE_ATTEMPTS = 7
FIRST_RETRY_SECONDS = 0.5


async def ensure_topics(
    bootstrap_servers: str,
    names: list[str],
    *,
    partitions: int = 12,
    sizes: Mapping[str, int] | None = None,
    replication: int = 1,
    configs: Mapping[str, Mapping[str, str]] | None = None,
    attempts: int = ENSURE_ATTEMPTS,
) -> None:
    """Create the topics that are missing, with `partitions` each unless `sizes` names their
    own (contract_partitions: the quiet contract topics have fewer). `configs` (topic-level settings such as retention.ms,
    see brightline.messaging.retention) go on new topics and are re-applied to existing ones,
    so a changed retention reaches a running cluster at the next start.

    It is the first thing a service asks of the broker when it starts: a broker that is away
    (BROKER_AWAY) is asked again, up to `attempts` times with a doubling wait, before the start
    fails. Seen on a busy box: five services starting at once, one broker closed a connection
    in the middle of listing its topics, and that service exited."""
    wait = FIRST_RETRY_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            return await _ensure_topics(
                bootstrap_servers, names, partitions, sizes or {}, replication, configs or {}
            )
        except BROKER_AWAY as error:
            if attempt == attempts:
                raise
            log.warning(
                "Kafka at %s is away (%r): topics checked again in %.1fs",
                bootstrap_servers,
                error,
                wait,
            )
            await asyncio.sleep(wait)
            wait *= 2


async def _ensure_topics(
    bootstrap_servers: str,
    names: list[str],
    partitions: int,
    sizes: Mapping[str, int],
    replication: int,
    configs: Mapping[str, Mapping[str, str]],
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **kafka_auth())
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        present = [n for n in dict.fromkeys(names) if n in existing and n in configs]
        if present:
            try:
                await admin.alter_configs(
                    [ConfigResource(ConfigResourceType.TOPIC, n, dict(configs[n])) for n in present]
                )
            except Exception as error:  # noqa: BLE001 - a broker that refuses keeps its own
                log.warning("could not set topic configs: %r", error)
        if not missing:
            return
        try:
            await admin.create_topics(
                [
                    NewTopic(
                        n,
                        num_partitions=sizes.get(n, partitions),
                        replication_factor=replication,
                        topic_configs=dict(configs.get(n, {})),
                    )
                    for n in missing
                ]
            )
        except TopicAlreadyExistsError:
            pass  # another service created them between our list and our create
        log.info("created topics %s", missing)
    finally:
        await admin.close()


def pace_fetches(consumer: AIOKafkaConsumer, seconds: float, *, counted_as: str) -> None:
    """At most one fetch request per `seconds` (per broker) from a started consumer, each
    counted with the partitions it names (metrics.FETCH_REQUESTS, FETCH_PARTITIONS) under
    `counted_as`.

    aiokafka sends the next fetch as soon as the last one answered, and a fetch answers as soon
    as one record is there: under a steady stream a consumer fetched about once per record, over
    every partition it holds (measured with py-spy: ~40 % of records' busy CPU, ~25 % of
    dispatch's and the SLA monitor's, went to building, sending and parsing fetches, and the
    broker paid for each too). Spacing the requests lets one fetch bring what arrived in
    between, so a batch (one transaction, one commit) holds more records. An idle fetch still
    waits at the broker (fetch_max_wait_ms), and the first fetch after a quiet spell leaves at
    once: only a stream is paced, by at most `seconds` per hop. (Holding fetches at the broker
    with fetch_min_bytes was measured worse: see consumer.FETCH_MIN_BYTES.)

    A full fetch names every partition the consumer holds on that broker, and the client and
    the broker pay for each one, empty or not (tests/bench/fetch_cost.py: ~230 and ~140 µs a
    request, 10 and 3.6 µs a partition named, on the 2-core box). So each request goes in an
    incremental fetch session with its broker (fetch_sessions): after the first it names only
    the partitions whose offset moved since the last one. The counts say what a consumer's
    fetching costs."""
    requests = metrics.FETCH_REQUESTS.labels(counted_as)
    partitions = metrics.FETCH_PARTITIONS.labels(counted_as)
    fetcher = consumer._fetcher  # created by start(); aiokafka has no public hook for this
    send = fetcher._proc_fetch_request
    use_fetch_sessions(fetcher)
    sessions: dict[int, FetchSession] = {}
    loop = asyncio.get_running_loop()
    sent_at: dict[int, float] = {}

    async def paced(assignment: Any, node_id: int, request: Any) -> bool:
        wait = sent_at.get(node_id, -math.inf) + seconds - loop.time()
        if wait > 0:
            try:
                await asyncio.sleep(wait)
            except asyncio.CancelledError:  # closed or reassigned: as aiokafka's own send does
                return False
        sent_at[node_id] = loop.time()
        in_session = SessionFetchRequest(request, sessions.setdefault(node_id, FetchSession()))
        try:
            result: bool = await send(assignment, node_id, in_session)
        finally:
            if in_session.built:  # it went out (a broker not ready never builds it)
                requests.inc()
                partitions.inc(in_session.named)
        return result

    fetcher._proc_fetch_request = paced
