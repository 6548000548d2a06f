"""The module the Kubernetes topic Job runs creates every contract topic and its dead-letter
twin with the partitions it is given, and running it again changes nothing."""

import asyncio
import subprocess
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from brightline.contracts import TOPICS
from brightline.messaging.topics import create_all

pytestmark = pytest.mark.integration


async def partitions_of(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
        return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
    finally:
        await admin.close()


async def test_creates_every_topic_and_dead_letter_twin_idempotently(kafka_bootstrap):
    prefix = f"jobtest{uuid.uuid4().hex[:6]}."
    expected = [f"{prefix}{n}" for t in TOPICS.values() for n in (t.name, f"{t.name}.dlt")]
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "brightline.messaging.topics",
            "--bootstrap",
            kafka_bootstrap,
            "--prefix",
            prefix,
            "--partitions",
            "4",
            "--replication",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert await partitions_of(kafka_bootstrap, expected) == {name: 4 for name in expected}
    # A second run (a re-applied Job) with other numbers leaves existing topics alone.
    assert await create_all(kafka_bootstrap, prefix=prefix, partitions=2) == expected
    assert await partitions_of(kafka_bootstrap, expected) == {name: 4 for name in expected}
