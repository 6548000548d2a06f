"""The module the Kubernetes topic Job runs creates every contract topic and its dead-letter
twin with the partitions it is given (fewer for a quiet topic), and running it again changes
nothing."""

import asyncio
import subprocess
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from brightline.contracts import TOPICS
from brightline.contracts.topics import consumed_by
from brightline.messaging.topics import create_all
from brightline.platform.testing import eventually

pytestmark = pytest.mark.integration

# Topics of a few events an hour: a few partitions, whatever KAFKA_PARTITIONS says.
QUIET = {"intake.escalations", "dispatch.planned-outages", "callback.rates"}


def sizes(prefix: str, partitions: int) -> dict[str, int]:
    return {
        f"{prefix}{n}": min(3, partitions) if t.name in QUIET else partitions
        for t in TOPICS.values()
        for n in (t.name, f"{t.name}.dlt")
    }


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
    assert await partitions_of(kafka_bootstrap, expected) == sizes(prefix, 4)
    # A second run (a re-applied Job) with other numbers leaves existing topics alone.
    assert await create_all(kafka_bootstrap, prefix=prefix, partitions=2) == expected
    assert await partitions_of(kafka_bootstrap, expected) == sizes(prefix, 4)


async def test_quiet_topics_cost_their_consumers_fewer_partitions(kafka_bootstrap):
    """Every fetch of a consumer lists every partition it is assigned (issue 21): at the
    production KAFKA_PARTITIONS a group reads fewer partitions, by the quiet topics'."""
    prefix = f"jobtest{uuid.uuid4().hex[:6]}."
    await create_all(kafka_bootstrap, prefix=prefix, partitions=12)
    expected = sizes(prefix, 12)

    async def described():  # a busy broker may describe a topic just created a moment late
        found = await partitions_of(kafka_bootstrap, list(expected))
        return found if len(found) == len(expected) else None

    created = await eventually(described)
    assert created == expected
    assigned = {
        group: sum(created[f"{prefix}{t.name}"] for t in consumed_by(group))
        for group in ("records", "sla_monitor", "intake", "dispatch")
    }
    assert assigned == {"records": 93, "sla_monitor": 78, "intake": 51, "dispatch": 24}
