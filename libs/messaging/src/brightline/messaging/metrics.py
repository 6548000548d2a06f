"""Prometheus metrics of the event backbone, in the default registry (served on /metrics).

Every service runs a relay and (most) a consumer, so every service exposes these:

- brightline_consumer_lag{consumer,topic,partition}: records not yet read by the group member
  in this process (broker high-water mark minus the consumer's position), set in the consumer loop.
- brightline_consumer_events_handled_total{consumer,event_type}: events applied by a route.
- brightline_consumer_events_dead_lettered_total{consumer,topic}: records sent to a .dlt topic.
- brightline_consumer_fetch_requests_total{consumer} and
  brightline_consumer_fetch_partitions_total{consumer}: the fetch requests a consumer sent and
  the partitions they named (the client and the broker pay for each, empty or not).
- brightline_outbox_backlog{service}: outbox rows not yet published, set by the relay.
- brightline_outbox_published_total{service,topic,event_type}: rows the broker acknowledged.
- brightline_outbox_relay_rounds_total{service}: relay rounds that sent rows (each costs a
  statement, and the broker a produce request per partition leader, however few rows it has).

Topic labels carry the contract name (without the test/tenant prefix).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import Counter, Gauge

CONSUMER_LAG = Gauge(
    "brightline_consumer_lag",
    "Records behind the high-water mark per assigned topic-partition (highwater - position)",
    ["consumer", "topic", "partition"],
)
EVENTS_HANDLED = Counter(
    "brightline_consumer_events_handled",
    "Events applied by a consumer route (redeliveries absorbed by the inbox included)",
    ["consumer", "event_type"],
)
DEAD_LETTERED = Counter(
    "brightline_consumer_events_dead_lettered",
    "Records a consumer sent to the dead-letter topic",
    ["consumer", "topic"],
)
FETCH_REQUESTS = Counter(
    "brightline_consumer_fetch_requests",
    "Fetch requests a consumer sent to the brokers",
    ["consumer"],
)
FETCH_PARTITIONS = Counter(
    "brightline_consumer_fetch_partitions",
    "Partitions named by a consumer's fetch requests (each costs both sides, empty or not)",
    ["consumer"],
)
OUTBOX_BACKLOG = Gauge(
    "brightline_outbox_backlog",
    "Outbox rows committed but not yet acknowledged by the broker",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "brightline_outbox_published",
    "Outbox rows published and acknowledged by the broker",
    ["service", "topic", "event_type"],
)

RELAY_ROUNDS = Counter(
    "brightline_outbox_relay_rounds",
    "Outbox relay rounds that sent rows to the broker",
    ["service"],
)


# A labelled child looked up once per label values, not per event or row (labels() takes a lock
# and builds its key on every call); the label values are bounded (consumers, contract types).
@cache
def handled(consumer: str, event_type: str) -> Counter:
    return EVENTS_HANDLED.labels(consumer, event_type)


@cache
def published(service: str, topic: str, event_type: str) -> Counter:
    return OUTBOX_PUBLISHED.labels(service, topic, event_type)


@cache
def relay_rounds(service: str) -> Counter:
    return RELAY_ROUNDS.labels(service)


@cache
def backlog(service: str) -> Gauge:
    return OUTBOX_BACKLOG.labels(service)


def unprefixed(prefix: str, topic: str) -> str:
    return topic[len(prefix) :] if prefix and topic.startswith(prefix) else topic


async def record_lag(
    consumer_name: str, kafka_consumer: AIOKafkaConsumer, prefix: str = ""
) -> None:
    """Lag of every assigned partition: highwater() (from the last fetch response) minus
    position(). A partition not fetched yet has no highwater and is left unset."""
    for tp in list(kafka_consumer.assignment()):
        try:
            highwater = kafka_consumer.highwater(tp)
            if highwater is None:
                continue
            position = await kafka_consumer.position(tp)
        except Exception:  # noqa: BLE001 - revoked meanwhile: the next loop sees the new assignment
            continue
        CONSUMER_LAG.labels(consumer_name, unprefixed(prefix, tp.topic), str(tp.partition)).set(
            max(highwater - position, 0)
        )


def forget_lag(consumer_name: str, partitions: Iterable[TopicPartition], prefix: str = "") -> None:
    """A revoked partition's lag belongs to another member now."""
    for tp in partitions:
        try:
            CONSUMER_LAG.remove(consumer_name, unprefixed(prefix, tp.topic), str(tp.partition))
        except KeyError:
            pass
