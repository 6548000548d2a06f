"""What one fetch request costs, client and broker, by the partitions it names (issue 21).

    .venv/bin/python tests/bench/fetch_cost.py [--seconds 10] [--topics 1,2,4,8]

Not a scenario of `run.py`: a developer's probe. A consumer names every partition it holds on a
broker in each fetch request, empty or not, and both sides parse and answer each one; a
consumer of many topics paced for the quickest of them (the SLA monitor fetched ~80 partitions
every 5 ms under a stream) paid that on all of them. This starts a broker of its own
(`.local/fetch-cost-kafka`, wiped), creates `max(--topics)` topics of 12 partitions with
nothing in them, and for each count of topics fetches them back to back for `--seconds` with
aiokafka as the services do (fetch_max_wait_ms 0, so an empty answer comes at once). It prints
the fetch requests sent and the CPU per request of this process (aiokafka building, sending
and parsing them) and of the broker's JVM (its JIT compiler threads left out, as in cost.py),
and the slope per partition named. Run it on an idle box: it measures CPU, not time, but the
broker's JIT warms up over the first seconds (the counts are run twice, the first discarded).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).parent))
from cost import cpu_of, jit_cpu_of

from brightline.messaging import ensure_topics
from brightline.platform.local import LocalKafka
from brightline.platform.local.paths import project_root

PARTITIONS = 12


def broker_cpu(pid: int) -> float:
    """The broker's CPU seconds but its JIT compilers' (cost.py's rule)."""
    return cpu_of(pid) - sum(jit_cpu_of(pid).values())


async def fetch_for(bootstrap: str, topics: list[str], seconds: float, broker_pid: int) -> dict:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=0
    )
    await consumer.start()
    consumer.assign([TopicPartition(t, p) for t in topics for p in range(PARTITIONS)])
    await consumer.seek_to_beginning()
    client = consumer._client
    send = client.send
    sent = 0

    def counted(node_id, request, *args, **kwargs):
        nonlocal sent
        if type(request).__name__ == "FetchRequest":
            sent += 1
        return send(node_id, request, *args, **kwargs)

    client.send = counted
    try:
        await consumer.getmany(timeout_ms=1000)  # positions known, fetching
        sent, started = 0, time.monotonic()
        own, broker = time.process_time(), broker_cpu(broker_pid)
        while time.monotonic() - started < seconds:
            await consumer.getmany(timeout_ms=100)
        own, broker = time.process_time() - own, broker_cpu(broker_pid) - broker
        return {"fetches": sent, "client": own, "broker": broker}
    finally:
        client.send = send
        await consumer.stop()


async def measure(kafka: LocalKafka, bootstrap: str, seconds: float, counts: list[int]) -> None:
    assert kafka.process is not None
    pid = kafka.process.pid
    prefix = f"fetchcost{uuid.uuid4().hex[:6]}."
    names = [f"{prefix}topic{i}" for i in range(max(counts))]
    await ensure_topics(bootstrap, names, partitions=PARTITIONS)
    print(f"{'partitions':>10} {'fetches':>8} {'client µs':>10} {'broker µs':>10}  per fetch")
    rows = []
    for rounds in ("warm-up", "measured"):
        for n in counts:
            got = await fetch_for(bootstrap, names[:n], seconds, pid)
            if rounds == "measured" and got["fetches"]:
                per = {k: got[k] / got["fetches"] * 1e6 for k in ("client", "broker")}
                rows.append((n * PARTITIONS, per))
                print(
                    f"{n * PARTITIONS:>10} {got['fetches']:>8} "
                    f"{per['client']:>10.0f} {per['broker']:>10.0f}"
                )
    if len(rows) >= 2:
        (p0, a), (p1, b) = rows[0], rows[-1]
        print(
            "per partition named: "
            + ", ".join(f"{k} {(b[k] - a[k]) / (p1 - p0):.1f} µs" for k in ("client", "broker"))
        )


def main(seconds: float, counts: list[int]) -> None:
    kafka = LocalKafka(project_root() / ".local" / "fetch-cost-kafka", partitions=PARTITIONS)
    shutil.rmtree(kafka.data_dir, ignore_errors=True)
    bootstrap = kafka.start()  # runs its own event loop: before ours
    try:
        asyncio.run(measure(kafka, bootstrap, seconds, counts))
    finally:
        kafka.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--topics", default="1,2,4,8", help="counts of 12-partition topics")
    args = parser.parse_args()
    main(args.seconds, [int(n) for n in args.topics.split(",")])
