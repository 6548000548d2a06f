"""What one POST /tickets costs intake's own process, outside the network: its CPU per request
and the counts behind it (issue 21).

    .venv/bin/python tests/bench/edge_cost.py [-n 2000] [--calls]

Builds intake in this process as `serve` does (the app uvicorn loads: its proxy-headers
layer, every middleware, the route, the unit of work), runs its lifespan against a PostgreSQL
and a Kafka broker (DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS, else its own under
.local/edge-cost-*) without its event consumer, stops the relay, the retention job and the audit
sealer (their statements run on their own clocks), and sends N repair tickets straight into the ASGI app, one after
another: no socket, no HTTP parsing, no client in the way, so `time.process_time()` over the N
requests is the app's CPU (less the producer's idle rate, measured over a quiet second
before). Prints, per request: CPU µs, the PostgreSQL server's CPU µs (when the script started
it: postmaster and backends, less their idle rate), SQL round trips, ASGI layers the request
passes through, and with --calls the Python function calls (cProfile, a count: stable on a busy box where the
times are not) with the functions called most.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def repair(i: int) -> bytes:
    import json

    return json.dumps(
        {
            "ticket_type": "repair",
            "description": "家中插座无电, 请派人检修",
            "caller_name": "王五",
            "phone": "13900139000",
            "address": f"边缘路{i}号",
            "fault_scope": "own_home",
            "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        },
        ensure_ascii=False,
    ).encode()


def layers(app: Any) -> list[str]:
    """The ASGI callables a request passes through before the router, outermost first."""
    names = []
    while app is not None:
        names.append(type(app).__name__)
        if type(app).__name__ == "FastAPI":
            app = app.middleware_stack or app.build_middleware_stack()
            continue
        app = getattr(app, "app", None)
    return names


def infrastructure(state: Path) -> tuple[dict[str, Any], list[Any]]:
    """The servers' addresses, starting those the environment does not name."""
    from brightline.platform.local import LocalKafka, LocalPostgres

    started: list[Any] = []
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        postgres = LocalPostgres(state / "edge-cost-pg")
        database_url = postgres.start()
        started.append(postgres)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        kafka = LocalKafka(state / "edge-cost-kafka", partitions=1)
        # Each run's topics have a fresh prefix: a kept broker would gather every run's.
        shutil.rmtree(kafka.data_dir, ignore_errors=True)
        bootstrap = kafka.start()
        started.append(kafka)
    return {"database_url": database_url, "kafka_bootstrap_servers": bootstrap}, started


def postgres_cpu(started: list[Any]) -> Callable[[], float] | None:
    """The CPU seconds of the PostgreSQL this script started (postmaster and backends), or
    None for one the environment names: its other clients would be counted too."""
    from cost import cpu_of

    for server in started:
        if (pid_file := getattr(server, "data_dir", Path()) / "postmaster.pid").exists():
            pid = int(pid_file.read_text().split()[0])
            return lambda: cpu_of(pid, reaped_children=True)
    return None


async def drop_database(database_url: str, name: str) -> None:
    """The run's own database, dropped: a server kept under .local would gather every run's
    (and autovacuum would visit them all)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def measure(
    n: int,
    calls: bool,
    servers: dict[str, Any],
    pstats_file: str | None,
    database_cpu: Callable[[], float] | None,
    database_name: str,
) -> None:
    os.environ["DB_COUNT_ROUND_TRIPS"] = "1"
    import uvicorn

    from brightline.intake.main import create_app
    from brightline.intake.settings import IntakeSettings
    from brightline.platform import db
    from brightline.platform.auth import Role
    from brightline.platform.testing import asgi_post, bearer, running

    headers = bearer(Role.AGENT, subject="agent-edge")

    settings = IntakeSettings(
        **servers,
        database_name=database_name,
        kafka_topic_prefix=f"edge{uuid.uuid4().hex[:6]}.",
        environment="development",
        log_level="WARNING",  # as the bench runs it: the audit trail's info line is not its cost
        log_json=True,
        # No consumer: its fetch loop, not the request, would fill the counts and the CPU.
        consumers_enabled=False,
    )
    app = create_app(settings)
    async with running(app):
        runtime = app.state.runtime
        for job in (runtime.relay, runtime.retention, runtime.sealer):
            await job.stop()
        config = uvicorn.Config(app, log_config=None, access_log=False)
        config.load()  # the app uvicorn serves: what `serve` wraps around create_app's
        served = config.loaded_app

        async def post(body: bytes, key: str) -> int:
            return await asgi_post(served, "/tickets", body, {**headers, "Idempotency-Key": key})

        run = uuid.uuid4().hex[:8]
        for i in range(50):  # first use: connections, compiled statements, caches
            assert await post(repair(i), f"{run}-w{i}") == 201

        idle_started = time.process_time()
        await asyncio.sleep(1.0)
        idle_rate = time.process_time() - idle_started  # CPU seconds per wall second

        database_idle = database_cpu() if database_cpu else 0.0
        await asyncio.sleep(1.0)
        database_idle = (database_cpu() if database_cpu else 0.0) - database_idle

        trips = db.ROUND_TRIPS["total"]
        database = database_cpu() if database_cpu else 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            assert await post(repair(1000 + i), f"{run}-{i}") == 201
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        database = (database_cpu() if database_cpu else 0.0) - database
        trips = db.ROUND_TRIPS["total"] - trips
        cpu_us = (cpu - idle_rate * wall) / n * 1e6

        print(f"requests          {n}")
        print(f"CPU per request   {cpu_us:8.0f} µs  (idle rate {idle_rate * 100:.1f} % subtracted)")
        if database_cpu:
            database_us = (database - database_idle * wall) / n * 1e6
            print(f"PostgreSQL CPU    {database_us:8.0f} µs  (postmaster and backends, less idle)")
        print(f"round trips       {trips / n:8.2f}")
        stack = layers(config.loaded_app)
        print(f"ASGI layers       {len(stack):8d}  {' > '.join(stack)}")

        if calls:
            m = 200
            profile = cProfile.Profile()
            profile.enable()
            for i in range(m):
                await post(repair(100_000 + i), f"{run}-p{i}")
            profile.disable()
            stats = pstats.Stats(profile)
            if pstats_file:
                stats.dump_stats(pstats_file)
            total = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
            print(f"function calls    {total / m:8.0f}  per request (cProfile)")
            rows = sorted(
                stats.stats.items(),  # type: ignore[attr-defined]
                key=lambda kv: kv[1][1],
                reverse=True,
            )
            by_package: dict[str, int] = {}
            for (file, _, _), entry in rows:
                package = where(file).split("/")[0]
                by_package[package] = by_package.get(package, 0) + entry[1]
            for package, count in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
                print(f"  {count / m:6.0f}  {package}")
            print("  most called:")
            for (file, line, name), entry in rows[:20]:
                print(f"  {entry[1] / m:6.1f}  {name}  {where(file)}:{line}")


def where(file: str) -> str:
    """A code file's path from its package down (a built-in's "~")."""
    if file.startswith("/") and "site-packages/" not in file and "/src/" not in file:
        return "stdlib"
    return file.split("site-packages/")[-1].split("/src/")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="requests measured")
    parser.add_argument("--calls", action="store_true", help="count function calls (cProfile)")
    parser.add_argument("--pstats", help="with --calls: the profile, for pstats or snakeviz")
    parser.add_argument("--state", type=Path, default=ROOT / ".local", help="servers' folder")
    args = parser.parse_args()
    servers, started = infrastructure(args.state)
    try:
        # uvloop when installed, as uvicorn serves intake (its default loop, "auto")
        try:
            import uvloop

            loop_factory = uvloop.new_event_loop
        except ImportError:
            loop_factory = None
        database_name = f"edge_cost_{uuid.uuid4().hex[:8]}"
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            try:
                runner.run(
                    measure(
                        args.n,
                        args.calls,
                        servers,
                        args.pstats,
                        postgres_cpu(started),
                        database_name,
                    )
                )
            finally:
                runner.run(drop_database(servers["database_url"], database_name))
    finally:
        for server in reversed(started):
            server.stop()


if __name__ == "__main__":
    main()
