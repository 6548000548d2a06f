"""Scenario 1: what this machine does with no Brightline code in the way.

- asyncpg: single-row INSERT, each its own transaction (autocommit = one commit per row),
  from 4 concurrent connections, for a fixed time.
- aiokafka: produce (acks=all, idempotent, the project's producer settings) of 300-byte records
  as fast as the client batches them, then consume them all from the start.
- bare FastAPI: one POST endpoint that parses JSON and answers JSON, served by uvicorn (one
  process, uvloop, access log off), driven by the separate-process load generator.
"""

from __future__ import annotations

import asyncio
import sys
import time

from common import HERE, Result, pct, run_loadgen_async
from stack import Stack

from brightline.platform.local.paths import free_port


async def insert_rate(stack: Stack, seconds: float, connections: int = 4) -> float:
    conn = await stack.connect("bench_baseline")
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS rows (id bigserial PRIMARY KEY, at timestamptz NOT NULL"
        " DEFAULT now(), body jsonb NOT NULL)"
    )
    await conn.close()
    pool = await stack.pool("bench_baseline", connections)
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        async with pool.acquire() as c:
            while time.perf_counter() < deadline:
                await c.execute(
                    "INSERT INTO rows (body) VALUES ($1)", '{"ticket_type": "repair", "n": 1}'
                )
                count += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    await pool.close()
    return count / elapsed


async def kafka_rates(stack: Stack, n: int) -> tuple[float, float]:
    from aiokafka import AIOKafkaConsumer

    from brightline.messaging.kafka import create_producer, ensure_topics

    topic = f"{stack.prefix}bench.baseline"
    await ensure_topics(stack.bootstrap, [topic])
    producer = create_producer(stack.bootstrap, "bench-baseline")
    await producer.start()
    payload = b"x" * 300
    try:
        start = time.perf_counter()
        futures = [await producer.send(topic, payload, key=str(i % 97).encode()) for i in range(n)]
        await producer.flush()
        await asyncio.gather(*futures)
        produce = n / (time.perf_counter() - start)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.bootstrap,
        group_id=f"{stack.run_id}-baseline",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        got = 0
        start = time.perf_counter()
        while got < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            got += sum(len(v) for v in batch.values())
        consume = got / (time.perf_counter() - start)
    finally:
        await consumer.stop()
    return produce, consume


async def http_rate(stack: Stack, seconds: float, concurrency: int) -> tuple[float, float]:
    import subprocess

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(HERE),
        "bare_app:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
    ]
    proc = subprocess.Popen(command)  # noqa: ASYNC220 - the server lives for the whole measurement
    try:
        import httpx

        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        report = await run_loadgen_async(
            {
                "mode": "closed",
                "concurrency": concurrency,
                "duration": seconds,
                "method": "POST",
                "url": f"http://127.0.0.1:{port}/echo",
                "body_kind": "bare",
            },
            stack.out_dir,
            "baseline-http",
            timeout=seconds + 60,
        )
    finally:
        proc.terminate()
        proc.wait(10)
    ok = sum(v for k, v in report["statuses"].items() if k.startswith("2"))
    return ok / (report["finished"] - report["started"]), pct(report["latencies_ms"], 99)


async def run(stack: Stack, scale, figures: dict) -> list[Result]:
    s = scale.baseline_seconds
    insert = await insert_rate(stack, s)
    produce, consume = await kafka_rates(stack, 20_000 if scale.quick else 200_000)
    http, http_p99 = await http_rate(stack, s, 64)
    figures.update(insert=insert, produce=produce, consume=consume, http=http)
    return [
        Result("baseline", "asyncpg insert+commit (4 conns)", insert, "rows/s"),
        Result("baseline", "aiokafka produce (acks=all, idempotent)", produce, "msg/s"),
        Result("baseline", "aiokafka consume", consume, "msg/s"),
        Result(
            "baseline", "bare FastAPI POST (64 conns)", http, "req/s", note=f"p99 {http_p99:.1f} ms"
        ),
    ]
