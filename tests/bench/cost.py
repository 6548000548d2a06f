"""What one ticket costs the box, measured around a scenario (issue 21, point 1).

- CPU: user+system seconds of the service processes (and their children: uvicorn workers), the
  PostgreSQL postmaster with every backend (live ones, plus the reaped ones in the postmaster's
  children times) and the Kafka JVM, from psutil. The load generator and this orchestrator are
  not counted. The system seconds among them are kept apart too (`kernel:<process>`): the
  kernel's work of the sockets, the scheduler's and the page faults, charged to the process.
- commits: pg_stat_database.xact_commit summed over the service databases (read-only
  transactions included); write transactions: the growth of the next transaction id
  (pg_snapshot_xmax of the current snapshot; only a transaction that writes takes an id).
- rows written: pg_stat_database.tup_inserted, tup_updated and tup_deleted of each service
  database (every table: its own rows, outbox, inbox and audit trail; what the indexes add to
  each row is not in it).
- WAL fsyncs: pg_stat_wal.wal_sync (the whole cluster); WAL bytes: pg_stat_wal.wal_bytes, and
  the full-page images among its records (wal_fpi: the first change of a page after a
  checkpoint writes the whole page).
- PostgreSQL's CPU by whose process it was: each service's backends (pg_stat_activity.datname,
  one database per service), autovacuum workers, the other background processes (WAL writer,
  checkpointer, ...), and the backends that ended within the window (reaped: their CPU is known
  only in sum, as the postmaster's children's).
- SQL round trips: the services' own client-side count (brightline_db_round_trips on /metrics,
  DB_COUNT_ROUND_TRIPS=1; statements + BEGIN + COMMIT/ROLLBACK + 3 per pre-pinged checkout).

The Kafka JVM's just-in-time compilers are the one exception to "every thread counts": a fresh
broker compiles its hot code for minutes under load (measured in a 45-s sustained run: about
half the broker's CPU, still compiling at the end), a cost a broker running for months paid
once. Their threads' CPU (/proc/<pid>/task, C1/C2 CompilerThread) is kept apart and printed
beside the figure, not in it.

Every figure has the idle rate of the same stack subtracted (relays and consumers poll even with
no load), measured over a quiet window just before the scenario. PostgreSQL publishes a
backend's statistics at most once a second, so the end snapshot is taken after a short pause
(whose idle share is subtracted too).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from stack import BENCH_APPLICATION

STATS_SETTLE_SECONDS = 2.5
# The JVM's compiler threads, as Linux names them (15 characters of "C2 CompilerThread0").
JIT_THREADS = ("C1 CompilerThre", "C2 CompilerThre")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Snapshot:
    at: float
    cpu: dict[str, float]
    kernel: dict[str, float]  # the system seconds among cpu's, by the same keys
    commits: float
    fsyncs: float
    wal_bytes: float
    wal_fpi: float
    round_trips: float
    writes: float
    commits_by: dict[str, float]  # per service database
    rows_by: dict[str, float]  # rows inserted, updated and deleted, "inserted:<service>", ...
    table_rows: dict[str, float]  # the same, summed, by table: "<service>.<table>"
    trips_by: dict[str, float]  # per service process
    gc_by: dict[str, float]  # seconds of garbage-collector pauses, per service
    long_gc_by: dict[str, float]  # pauses over 50 ms, per service and generation
    stalls_by: dict[str, float]  # event-loop wake-ups more than 25 ms late, per service
    fetches_by: dict[str, float]  # Kafka fetch requests of each service's consumer
    partitions_by: dict[str, float]  # the partitions those requests named
    rounds_by: dict[str, float]  # outbox relay rounds that sent rows, per service
    jit: dict[int, float]  # CPU seconds of the Kafka JVM's compiler threads, by thread id
    pg_by_pid: dict[int, tuple[str, float]]  # PostgreSQL process: (whose, CPU seconds)

    def pg_split(self, other: Snapshot) -> dict[str, float]:
        """PostgreSQL's CPU since `other`, by whose process it was. A process that started
        since counts whole; one that ended counts as `ended` (the postmaster's reaped
        children), with whatever else no live process explains."""
        split: dict[str, float] = {}
        for pid, (who, cpu) in self.pg_by_pid.items():
            before = other.pg_by_pid.get(pid)
            spent = cpu - (before[1] if before is not None and before[0] == who else 0.0)
            split[f"pg:{who}"] = split.get(f"pg:{who}", 0.0) + spent
        total = self.cpu.get("postgres", 0.0) - other.cpu.get("postgres", 0.0)
        split["pg:ended"] = max(0.0, total - sum(split.values()))
        for key in {f"pg:{who}" for who, _ in other.pg_by_pid.values()} - split.keys():
            split[key] = 0.0
        return split

    def minus(self, other: Snapshot) -> dict[str, float]:
        # Threads alive now: the CPU since the other snapshot (all of it for a new thread).
        jit = sum(cpu - other.jit.get(tid, 0.0) for tid, cpu in self.jit.items())
        postgres = self.pg_split(other)
        # The bench's own queries (its polls, this meter's snapshots): the observer's, not a
        # ticket's, like the load generator's CPU.
        observer = postgres.get("pg:bench", 0.0)
        return {
            "seconds": self.at - other.at,
            "cpu": sum(self.cpu.values()) - sum(other.cpu.values()) - jit - observer,
            "commits": self.commits - other.commits,
            "fsyncs": self.fsyncs - other.fsyncs,
            "wal_bytes": self.wal_bytes - other.wal_bytes,
            "wal_fpi": self.wal_fpi - other.wal_fpi,
            "round_trips": self.round_trips - other.round_trips,
            "writes": self.writes - other.writes,
            "jit": jit,
            **{f"cpu:{k}": self.cpu.get(k, 0) - other.cpu.get(k, 0) for k in self.cpu},
            **{f"kernel:{k}": v - other.kernel.get(k, 0) for k, v in self.kernel.items()},
            "cpu:kafka": self.cpu.get("kafka", 0) - other.cpu.get("kafka", 0) - jit,
            "cpu:postgres": self.cpu.get("postgres", 0) - other.cpu.get("postgres", 0) - observer,
            "observer": observer,
            **{f"commits:{k}": v - other.commits_by.get(k, 0) for k, v in self.commits_by.items()},
            **{f"trips:{k}": v - other.trips_by.get(k, 0) for k, v in self.trips_by.items()},
            **{k: v - other.rows_by.get(k, 0) for k, v in self.rows_by.items()},
            **{f"table:{k}": v - other.table_rows.get(k, 0) for k, v in self.table_rows.items()},
            **{f"gc:{k}": v - other.gc_by.get(k, 0) for k, v in self.gc_by.items()},
            **{f"long_gc:{k}": v - other.long_gc_by.get(k, 0) for k, v in self.long_gc_by.items()},
            **{f"stalls:{k}": v - other.stalls_by.get(k, 0) for k, v in self.stalls_by.items()},
            **{f"fetches:{k}": v - other.fetches_by.get(k, 0) for k, v in self.fetches_by.items()},
            **{
                f"partitions:{k}": v - other.partitions_by.get(k, 0)
                for k, v in self.partitions_by.items()
            },
            **{f"rounds:{k}": v - other.rounds_by.get(k, 0) for k, v in self.rounds_by.items()},
            **postgres,
        }


def cpu_of(pid: int, *, reaped_children: bool = False) -> float:
    return cpu_and_kernel_of(pid, reaped_children=reaped_children)[0]


def cpu_and_kernel_of(pid: int, *, reaped_children: bool = False) -> tuple[float, float]:
    """user+system seconds of a process and its children, and the system seconds among them."""
    try:
        proc = psutil.Process(pid)
        times = proc.cpu_times()
        total, kernel = times.user + times.system, times.system
        if reaped_children:
            total += times.children_user + times.children_system
            kernel += times.children_system
        for child in proc.children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
                kernel += t.system
            except psutil.Error:
                pass
        return total, kernel
    except psutil.Error:
        return 0.0, 0.0


def _proc_cpu(pid: int) -> float | None:
    """user+system seconds of one process, from /proc (None: it ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def jit_cpu_of(pid: int) -> dict[int, float]:
    """CPU seconds of each live compiler thread of a JVM, by thread id. The JVM adds and ends
    compiler threads with the load: one that ended between two snapshots took its CPU since
    the first with it, which then counts as the broker's (what is kept apart is at most the
    compilers' share, never more)."""
    found: dict[int, float] = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            if not (task / "comm").read_text().startswith(JIT_THREADS):
                continue
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        found[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return found


_GAUGE = re.compile(r"^brightline_db_round_trips (\S+)$", re.MULTILINE)
# brightline.platform.heap's histogram: the seconds paused, and the pauses up to 50 ms.
_GC_SUM = re.compile(r"^brightline_gc_pause_seconds_sum\{[^}]*\} (\S+)$", re.MULTILINE)
# By generation: a long pause of the oldest one walks the heap grown since the freeze.
_GC_COUNT = re.compile(
    r'^brightline_gc_pause_seconds_count\{generation="(\d)"\} (\S+)$', re.MULTILINE
)
_GC_SHORT = re.compile(
    r'^brightline_gc_pause_seconds_bucket\{generation="(\d)",le="0\.05"\} (\S+)$',
    re.MULTILINE,
)

# brightline.platform.loop_lag's histogram: the wake-ups, and those up to 25 ms late.
_LAG_COUNT = re.compile(r"^brightline_event_loop_lag_seconds_count (\S+)$", re.MULTILINE)
_LAG_SHORT = re.compile(
    r'^brightline_event_loop_lag_seconds_bucket\{le="0\.025"\} (\S+)$', re.MULTILINE
)


# brightline.messaging.kafka.pace_fetches's counters.
_FETCHES = re.compile(r"^brightline_consumer_fetch_requests_total\{[^}]*\} (\S+)$", re.MULTILINE)
_PARTITIONS = re.compile(
    r"^brightline_consumer_fetch_partitions_total\{[^}]*\} (\S+)$", re.MULTILINE
)

# brightline.messaging.relay's rounds that sent rows (a produce request each, at least).
_ROUNDS = re.compile(r"^brightline_outbox_relay_rounds_total\{[^}]*\} (\S+)$", re.MULTILINE)


def _total(pattern: re.Pattern[str], text: str) -> float:
    return sum(float(found) for found in pattern.findall(text))


# What pg_stat_database counts of the rows a database's statements wrote (tup_<kind>).
ROW_WRITES = ("inserted", "updated", "deleted")
# Figures read at cpu_end (the moment the work finished), not after the statistics settle: the
# consumers' idle long polls in between are no ticket's.
BOUNDED_BY_THE_WORK = ("cpu:", "kernel:", "pg:", "fetches:", "partitions:", "rounds:")


class CostMeter:
    def __init__(self, stack) -> None:
        self.stack = stack
        self.idle: dict[str, float] | None = None

    def postmaster_pid(self) -> int:
        pid_file = self.stack.postgres.data_dir / "postmaster.pid"
        return int(pid_file.read_text().split()[0])

    async def snapshot(self) -> Snapshot:
        cpu: dict[str, float] = {}
        kernel: dict[str, float] = {}

        def add(name: str, pid: int, *, reaped_children: bool = True) -> None:
            total, system = cpu_and_kernel_of(pid, reaped_children=reaped_children)
            cpu[name] = cpu.get(name, 0.0) + total
            kernel[name] = kernel.get(name, 0.0) + system

        for name, proc in self.stack.all_procs():  # a replica shares its service's name
            add(name, proc.process.pid)
        add("postgres", self.postmaster_pid())
        kafka = self.stack.kafka.process.pid
        jit = jit_cpu_of(kafka)  # first: never more than the process's total read next
        add("kafka", kafka, reaped_children=False)
        async with self.stack.held() as conn:
            by_database = {
                row["datname"]: row
                for row in await conn.fetch(
                    "SELECT datname, xact_commit, tup_inserted, tup_updated, tup_deleted"
                    " FROM pg_stat_database WHERE datname = ANY($1::text[])",
                    list(self.stack.db.values()),
                )
            }
            commits_by: dict[str, float] = {}
            rows_by: dict[str, float] = {}
            for service, database in self.stack.db.items():
                row = by_database.get(database)
                commits_by[service] = float(row["xact_commit"] if row else 0)
                for kind in ROW_WRITES:
                    rows_by[f"{kind}:{service}"] = float(row[f"tup_{kind}"] if row else 0)
            commits = sum(commits_by.values())
            fsyncs, wal_bytes, wal_fpi = await conn.fetchrow(
                "SELECT wal_sync, wal_bytes, wal_fpi FROM pg_stat_wal"
            )
            # The next transaction id, read without taking one: its growth counts the
            # transactions that wrote (read-only ones never get an id).
            writes = await conn.fetchval(
                "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
            )
            processes = await conn.fetch(
                "SELECT pid, backend_type, datname, application_name FROM pg_stat_activity"
            )
        table_rows: dict[str, float] = {}
        for service, database in self.stack.db.items():
            async with self.stack.held(database) as conn:
                for relname, written in await conn.fetch(
                    "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
                ):
                    table_rows[f"{service}.{relname}"] = float(written)
        # Each process's CPU read right after the list, close to the total read above.
        service_of = {database: service for service, database in self.stack.db.items()}
        pg_by_pid: dict[int, tuple[str, float]] = {}
        for pid, backend_type, database, application in processes:
            cpu_seconds = _proc_cpu(pid)
            if cpu_seconds is None:
                continue
            if backend_type == "client backend":
                # the bench's own connections, to any database, are the observer's
                who = "bench" if application == BENCH_APPLICATION else service_of.get(database, "?")
            elif backend_type == "autovacuum worker":
                who = "autovacuum"
            else:
                who = "background"
            pg_by_pid[pid] = (who, cpu_seconds)
        pg_by_pid[self.postmaster_pid()] = ("background", _proc_cpu(self.postmaster_pid()) or 0.0)
        trips_by: dict[str, float] = {}
        gc_by: dict[str, float] = {}
        long_gc_by: dict[str, float] = {}
        stalls_by: dict[str, float] = {}
        fetches_by: dict[str, float] = {}
        partitions_by: dict[str, float] = {}
        rounds_by: dict[str, float] = {}
        async with httpx.AsyncClient(timeout=10) as client:
            for name, proc in self.stack.all_procs():
                try:
                    text = (await client.get(f"{proc.url}/metrics")).text
                except httpx.HTTPError:
                    continue
                found = _GAUGE.search(text)
                trips_by[name] = trips_by.get(name, 0.0) + (float(found.group(1)) if found else 0.0)
                gc_by[name] = gc_by.get(name, 0.0) + _total(_GC_SUM, text)
                short = dict(_GC_SHORT.findall(text))
                for generation, count in _GC_COUNT.findall(text):
                    key = f"{name} gen{generation}"
                    long = float(count) - float(short.get(generation, 0.0))
                    long_gc_by[key] = long_gc_by.get(key, 0.0) + long
                stalls_by[name] = (
                    stalls_by.get(name, 0.0) + _total(_LAG_COUNT, text) - _total(_LAG_SHORT, text)
                )
                fetches_by[name] = fetches_by.get(name, 0.0) + _total(_FETCHES, text)
                partitions_by[name] = partitions_by.get(name, 0.0) + _total(_PARTITIONS, text)
                rounds_by[name] = rounds_by.get(name, 0.0) + _total(_ROUNDS, text)
        round_trips = sum(trips_by.values())
        return Snapshot(
            time.monotonic(),
            cpu,
            kernel,
            float(commits or 0),
            float(fsyncs or 0),
            float(wal_bytes or 0),
            float(wal_fpi or 0),
            round_trips,
            float(writes or 0),
            commits_by,
            rows_by,
            table_rows,
            trips_by,
            gc_by,
            long_gc_by,
            stalls_by,
            fetches_by,
            partitions_by,
            rounds_by,
            jit,
            pg_by_pid,
        )

    async def measure_idle(self, seconds: float = 5.0) -> None:
        await asyncio.sleep(STATS_SETTLE_SECONDS)
        start = await self.snapshot()
        await asyncio.sleep(seconds)
        delta = (await self.snapshot()).minus(start)
        self.idle = {k: v / delta["seconds"] for k, v in delta.items() if k != "seconds"}

    async def end(self, start: Snapshot, cpu_end: Snapshot | None = None) -> dict[str, float]:
        """Costs between start and now, less the idle rate. cpu_end (a snapshot taken the moment
        the work finished) bounds the CPU window; commits and fsyncs are read after the
        statistics settle."""
        await asyncio.sleep(STATS_SETTLE_SECONDS)
        last = await self.snapshot()
        delta = last.minus(start)
        if cpu_end is not None:
            cpu_delta = cpu_end.minus(start)
            for k, v in cpu_delta.items():
                if k in ("cpu", "jit", "observer") or k.startswith(BOUNDED_BY_THE_WORK):
                    delta[k] = v
            cpu_seconds = cpu_delta["seconds"]
        else:
            cpu_seconds = delta["seconds"]
        idle = self.idle or {}
        out = {}
        for k, v in delta.items():
            if k == "seconds":
                continue
            cpu_like = k in ("cpu", "jit", "observer") or k.startswith(BOUNDED_BY_THE_WORK)
            window = cpu_seconds if cpu_like else delta["seconds"]
            out[k] = max(0.0, v - idle.get(k, 0.0) * window)
        out["idle_cpu_share"] = idle.get("cpu", 0.0)
        return out


def jit_note(costs: dict[str, float], tickets: int) -> str:
    """What the broker's JIT compilers and the bench's own queries took in the window, kept
    out of the CPU figure."""
    return (
        f"kafka's JIT compilers {1000 * costs.get('jit', 0.0) / tickets:.1f} and the bench's "
        f"own queries {1000 * costs.get('observer', 0.0) / tickets:.1f} not counted"
    )


def per_service(costs: dict[str, float], kind: str, tickets: int, *, scale: float = 1.0) -> str:
    """'dispatch 2.1, intake 3.0, …' of a per-service cost (kind: cpu, commits, trips)."""
    prefix = f"{kind}:"
    return ", ".join(
        f"{key[len(prefix) :]} {scale * value / tickets:.1f}"
        for key, value in sorted(costs.items())
        if key.startswith(prefix) and key != "pg:bench"  # the observer's: not counted
    )


def long_pauses(costs: dict[str, float]) -> str:
    """' (intake gen2 3, records gen1 1)' of the garbage collector's pauses over 50 ms, or ''."""
    found = [
        f"{key.split(':', 1)[1]} {value:.0f}"
        for key, value in sorted(costs.items())
        if key.startswith("long_gc:") and value >= 0.5
    ]
    return f" ({', '.join(found)})" if found else ""
