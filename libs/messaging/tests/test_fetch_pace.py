"""Fetches are paced by the stream: records coming one at a time are fetched at once (a long
poll while idle), a stream is fetched in batches (a short wait at the broker), so a busy
consumer sends a fetch request over all its partitions per batch, not per record or two."""

import pytest

from brightline.contracts.topics import INTAKE_TICKETS
from brightline.messaging import ensure_topics, prefixed
from brightline.messaging.consumer import (
    FETCH_MAX_WAIT_MS,
    FETCH_MIN_BYTES,
    STREAM_FETCH_MAX_WAIT_MS,
    STREAM_FETCH_MIN_BYTES,
    EventConsumer,
    fetch_pace,
)

IDLE = (FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS)
STREAM = (STREAM_FETCH_MIN_BYTES, STREAM_FETCH_MAX_WAIT_MS)


def test_an_idle_consumer_long_polls_and_records_one_at_a_time_are_fetched_at_once():
    assert fetch_pace(0, 0.5) == IDLE  # empty long polls
    assert fetch_pace(1, 0.3) == IDLE  # one record after a quiet spell
    assert fetch_pace(8, 0.2) == IDLE  # a couple of tickets' events: each fetched as it comes
    assert fetch_pace(1, 0.2) == IDLE  # the stream ran dry


def test_a_stream_is_fetched_in_batches():
    assert fetch_pace(20, 0.2) == STREAM  # 100 records a second
    assert fetch_pace(200, 0.3) == STREAM  # a backlog


@pytest.mark.integration
async def test_the_consumer_paces_the_fetches_of_its_kafka_client(kafka_bootstrap, topic_prefix):
    prefix = topic_prefix + "pace."
    await ensure_topics(kafka_bootstrap, [prefixed(prefix, INTAKE_TICKETS.name)], partitions=1)
    consumer = EventConsumer(
        name="pace-test",
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        topics=[INTAKE_TICKETS],
        routes={},
        session_factory=None,  # type: ignore[arg-type]  # nothing is published: nothing applied
        dead_letter_producer=None,  # type: ignore[arg-type]
        source="/test",
    )
    await consumer.start()
    try:
        assert consumer._consumer is not None
        fetcher = consumer._consumer._fetcher
        # The settings aiokafka builds every fetch request from (it has no public setter).
        assert {"_fetch_min_bytes", "_fetch_max_wait_ms"} <= vars(fetcher).keys()
        consumer._pace(40, 0.2)
        assert (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms) == STREAM
        consumer._pace(0, 0.2)
        assert (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms) == IDLE
    finally:
        await consumer.stop()
