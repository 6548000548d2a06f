"""The system under test: its own Kafka broker and PostgreSQL (under .local/bench-*), and the
services as separate processes with production-like settings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import asyncpg

from brightline.platform.local import LocalKafka, LocalPostgres, project_root
from brightline.platform.local.cpu_shares import CpuGroups, weigh_as_pods
from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.testing import ServiceProcess, identity_provider

SERVICES = {
    "intake": "INTAKE_DATABASE_NAME",
    "dispatch": "DISPATCH_DATABASE_NAME",
    "sla_monitor": "SLA_DATABASE_NAME",
    "casework": "CASEWORK_DATABASE_NAME",
    "callback": "CALLBACK_DATABASE_NAME",
    "records": "RECORDS_DATABASE_NAME",
    "console": "CONSOLE_DATABASE_NAME",
}

# The bench's own connections say so: the cost meter counts their backends apart, as the
# observer's, never as the system's (cost.py).
BENCH_APPLICATION = "brightline-bench"

# Postgres settings closer to a server than pgserver's defaults (it ships 128 MB buffers), and
# group commit as docker-compose and deploy/k8s/README set it (commit_delay, in microseconds).
PG_SETTINGS = {
    "shared_buffers": "'2GB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'512MB'",
    "max_wal_size": "'4GB'",
    "checkpoint_timeout": "'15min'",
    "commit_delay": "'1000'",
}


class Stack:
    def __init__(
        self,
        out_dir: Path,
        partitions: int = 12,
        state: Path | None = None,
        pg_settings: dict[str, str] | None = None,
    ) -> None:
        root = project_root()
        self.root = root
        self.out_dir = out_dir
        self.log_dir = out_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # Another state directory lets a second bench run beside a long one (their databases
        # and topics would otherwise be each other's).
        state = state or root / ".local"
        self.postgres = LocalPostgres(state / "bench-pg")
        # The settings a run gave beyond PG_SETTINGS (--pg-setting), so the next run can take
        # them back: ALTER SYSTEM keeps them in the data directory.
        self.extra_settings_file = state / "bench-pg-extra-settings.json"
        self.kafka = LocalKafka(state / "bench-kafka", partitions=partitions, heap="1g")
        self.partitions = partitions
        self.pg_settings = {**PG_SETTINGS, **(pg_settings or {})}
        self.run_id = f"b{int(time.time())}"
        self.prefix = f"{self.run_id}."
        self.db = {name: f"bench_{name}" for name in SERVICES}
        self.procs: dict[str, ServiceProcess] = {}
        self.replicas: list[tuple[str, ServiceProcess]] = []
        self._held: dict[str, asyncpg.Connection] = {}
        self._held_locks: dict[str, asyncio.Lock] = {}
        self._lag_clients: tuple | None = None
        # The services' CPU weights (weigh_as_pods), None while the kernel's sessions weigh them.
        self.cpu_groups: CpuGroups | None = None
        self.cpu_shares: dict[str, int] = {}
        self.cpu_note = "as sessions, alike (--cpu-shares sessions)"

    # ------------------------------------------------------------ infrastructure

    def start_infra(self) -> None:
        self.database_url = self.postgres.start()
        server = self.postgres._server
        changed = False
        # A setting an earlier run gave with --pg-setting goes back to the server's default
        # unless this run gives it too (one run's setting is not the next one's).
        extra = sorted(set(self.pg_settings) - set(PG_SETTINGS))
        earlier = (
            json.loads(self.extra_settings_file.read_text())
            if self.extra_settings_file.exists()
            else []
        )
        for key in set(earlier) - set(extra):
            server.psql(f"ALTER SYSTEM RESET {key};")
            changed = True
        self.extra_settings_file.write_text(json.dumps(extra))
        for key, value in self.pg_settings.items():
            # psql prints a header, the value and a row count: the value is one whole line
            # (a substring test took 1000 for 0 or 10).
            shown = [line.strip() for line in server.psql(f"SHOW {key};").splitlines()]
            if value.strip("'") not in shown:
                server.psql(f"ALTER SYSTEM SET {key} = {value};")
                changed = True
        if changed:
            self.postgres.restart()
        # Every run makes its topics under a fresh prefix, and a broker kept between runs kept
        # them all: 12,400 partitions after a few dozen runs here, each walked by the broker's
        # log housekeeping and named in every metadata answer (a service's start-up asks for
        # them all). The figures were the leftovers', so the broker starts from nothing.
        shutil.rmtree(self.kafka.data_dir, ignore_errors=True)
        self.bootstrap = self.kafka.start()
        parsed = urlparse(self.database_url.replace("postgresql+asyncpg", "postgresql"))
        self.pg_host = parse_qs(parsed.query)["host"][0]

    def stop_infra(self) -> None:
        try:
            self.kafka.stop()
        finally:
            self.postgres.stop()

    async def connect(self, database: str = "postgres") -> asyncpg.Connection:
        return await asyncpg.connect(
            host=self.pg_host,
            user="postgres",
            database=database,
            server_settings={"application_name": BENCH_APPLICATION},
        )

    @contextlib.asynccontextmanager
    async def held(self, database: str = "postgres") -> AsyncIterator[asyncpg.Connection]:
        """The bench's one kept connection to `database`, for its polls and snapshots: a new
        connection per poll started a backend each time (~2 ms of the server's CPU), and a
        backend that ends within a measured window counts in it as nobody's."""
        lock = self._held_locks.setdefault(database, asyncio.Lock())
        async with lock:
            conn = self._held.get(database)
            if conn is None or conn.is_closed():
                conn = self._held[database] = await self.connect(database)
            yield conn

    async def close_held(self) -> None:
        """The kept connections and Kafka clients, closed before the servers stop."""
        for conn in self._held.values():
            with contextlib.suppress(Exception):
                await conn.close()
        self._held.clear()
        if self._lag_clients is not None:
            admin, consumer = self._lag_clients
            self._lag_clients = None
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await admin.close()

    async def pool(self, database: str, size: int = 4) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            host=self.pg_host, user="postgres", database=database, min_size=1, max_size=size
        )

    async def fresh_databases(self) -> None:
        """Every run starts from empty service databases (the services migrate them)."""
        conn = await self.connect()
        try:
            for name in [*self.db.values(), "bench_baseline"]:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute('CREATE DATABASE "bench_baseline"')
        finally:
            await conn.close()

    # ------------------------------------------------------------ services

    def service_env(self, service: str | None = None) -> dict[str, str]:
        """The environment of every service, with `--service-env` knobs: KEY for them all,
        SERVICE:KEY for that service alone."""
        env = {
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_TOPIC_PREFIX": self.prefix,
            "LOG_LEVEL": "WARNING",
            "LOG_JSON": "true",
            "BRIGHTLINE_HOME": str(self.root),
            # brightline_db_round_trips on /metrics (cost.py)
            "DB_COUNT_ROUND_TRIPS": "1",
            "KAFKA_PARTITIONS": str(self.partitions),
            "BRIGHTLINE_ENV": "development",
            # The session's Keycloak (started once; bearer() takes its tokens from it too).
            "BRIGHTLINE_OIDC_ISSUER": identity_provider().issuer,
        }
        for name, var in SERVICES.items():
            env[var] = self.db[name]
        for key, value in getattr(self, "extra_env", {}).items():
            target, _, var = key.rpartition(":")
            if not target or target == service:
                env[var] = value
        return env

    def overlay(self, service: str, worktree: str) -> str:
        """A snapshot of another worktree's service (read only: copied, byte code off) to run instead
        of this checkout's: for benchmarking work that is not merged yet."""
        source = Path(worktree) / "services" / service
        target = self.root / ".local" / "bench-code" / service
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(
            source, target, ignore=shutil.ignore_patterns("__pycache__", "tests", "*.pyc")
        )
        return str(target / "src")

    def start_services(self, code: dict[str, str] | None = None, pod_shares: bool = True) -> None:
        for name in SERVICES:
            env = self.service_env(name)
            if code and name in code:
                env["PYTHONPATH"] = self.overlay(name, code[name])
                env["PYTHONDONTWRITEBYTECODE"] = "1"
            proc = ServiceProcess(name, free_port(), env, self.log_dir)
            proc.start()
            self.procs[name] = proc
        if pod_shares:
            self.weigh_as_pods()
        for proc in self.procs.values():
            # A shared 2-core box can be slow to start seven services; at WARNING they may log nothing.
            wait_ready_by_progress(proc, stall=300)

    def weigh_as_pods(self) -> None:
        """Each service's weight on the box's CPU as its pod's CPU request in deploy/k8s
        (brightline.platform.local.cpu_shares); left to the kernel's sessions when no cpu cgroup
        can be made here (`cpu_note` says which)."""
        pids = {name: proc.process.pid for name, proc in self.procs.items()}
        groups, wanted, self.cpu_note = weigh_as_pods(
            pids, f"bench-{self.run_id}", list(SERVICES), self.root
        )
        if groups is not None:
            self.cpu_groups, self.cpu_shares = groups, wanted

    def all_procs(self) -> list[tuple[str, ServiceProcess]]:
        """Every service process, extra replicas (scale-out scenario) included."""
        return [*self.procs.items(), *self.replicas]

    def stop_services(self) -> None:
        for _, proc in reversed(self.replicas):
            proc.stop()
        for proc in reversed(list(self.procs.values())):
            proc.stop()
        if self.cpu_groups is not None:
            self.cpu_groups.release()
            self.cpu_groups = None

    def url(self, service: str) -> str:
        return self.procs[service].url

    # ------------------------------------------------------------ Kafka lag

    async def consumer_lag(self) -> dict[str, int]:
        """Per consumer group: sum over its partitions (of our topics) of end offset - committed.
        Its admin client and consumer are kept between calls: polled every quarter second, a new
        pair each time cost the broker their connections and metadata requests too."""
        from aiokafka import AIOKafkaConsumer
        from aiokafka.admin import AIOKafkaAdminClient

        if self._lag_clients is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
            await admin.start()
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
            try:
                await consumer.start()
            except Exception:
                await admin.close()
                raise
            self._lag_clients = (admin, consumer)
        admin, consumer = self._lag_clients
        lag: dict[str, int] = {}
        groups = [g[0] for g in await admin.list_consumer_groups()]
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(group)
            ours = {
                tp: meta.offset for tp, meta in offsets.items() if tp.topic.startswith(self.prefix)
            }
            if not ours:
                continue
            ends = await consumer.end_offsets(list(ours))
            lag[group] = sum(max(0, ends[tp] - off) for tp, off in ours.items() if off >= 0)
        return lag


async def wait_for(check, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    return last
