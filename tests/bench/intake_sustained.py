"""Scenario 2: sustained intake, end to end.

POST /tickets (repair, one household, unique address so nothing links) from the load
generator's 'closed' mode (N agents back to back) for a fixed time; then wait until every
accepted ticket has its dispatch work order and its SLA deadline opened. A ticket counts as
applied when the SLA monitor's outbox holds the deadline-opened event naming it (the deadline
row and that event commit together), the last one if it has several.

- tickets/s end to end = applied / (last applied - first POST sent)
- end-to-end latency = SLA outbox created_at (the deadline's transaction) - intake recorded_at;
  at 70 %, also by hop: up to dispatch's outbox row of the work order (its transaction), and
  from there on
- a run's cost (CPU, commits, round trips) is taken once every consumer group has caught up,
  the read side's too; then an open-loop run at 70 % of the sustained rate: POST p50/p99 there.

The measured run comes after a warm-up of the same load: the first load a fresh stack sees pays
one-time costs that are not a ticket's. Measured per broker thread (/proc/<pid>/task) in a cold
10-s run, the JVM's C2 compiler took ~3/4 of the broker's CPU while the request handlers took a
few per cent; the services fill their statement caches and pools. The warm-up's own cost is
printed as the cold figure, beside the steady one. The compiler goes on after it (a busy box
gives it little CPU): its threads' CPU is kept out of both figures and printed beside them
(cost.jit_cpu_of).
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from common import Result, pct, run_loadgen_async
from cost import ROW_WRITES, CostMeter, jit_note, long_pauses, per_service
from stack import Stack, wait_for

from brightline.platform.auth import Role
from brightline.platform.testing import bearer

OPENED = "brightline.sla.deadline.opened.v1"


async def outbox_mark(stack: Stack, service: str = "sla_monitor") -> int:
    """A service's last outbox id now (the SLA monitor's by default): every row a later ticket
    makes is above it."""
    async with stack.held(stack.db[service]) as conn:
        return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))


async def applied(stack: Stack, ids: list[str], since: int) -> dict[str, datetime]:
    """Of `ids` (tickets posted after the outbox stood at `since`), those the SLA monitor has
    applied, and when. Only the rows written since are read, and matched here: the poll's
    first form, a new connection searching the whole outbox with `= ANY` of every id (a
    linear search per row once its plan turned generic), cost the server 13-175 ms of CPU a
    poll, counted as the system's."""
    wanted = set(ids)
    async with stack.held(stack.db["sla_monitor"]) as conn:
        rows = await conn.fetch(
            "SELECT data->>'ticket_id' AS t, created_at AS at FROM outbox"
            " WHERE id > $1 AND event_type = $2",
            since,
            OPENED,
        )
    done: dict[str, datetime] = {}
    for ticket, at in rows:
        if ticket in wanted and (ticket not in done or at > done[ticket]):
            done[ticket] = at
    return done


async def work_orders(stack: Stack, ids: list[str]) -> int:
    async with stack.held(stack.db["dispatch"]) as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM work_orders WHERE ticket_id = ANY($1::text[])", ids
        )


async def recorded_times(stack: Stack, done: dict[str, datetime]) -> dict[str, datetime]:
    """When each of `done`'s tickets was recorded (intake's recorded_at): where its chain starts."""
    async with stack.held(stack.db["intake"]) as conn:
        return {
            r["id"]: r["recorded_at"]
            for r in await conn.fetch(
                "SELECT id, recorded_at FROM tickets WHERE id = ANY($1::text[])", list(done)
            )
        }


def e2e_latencies(recorded: dict[str, datetime], done: dict[str, datetime]) -> list[float]:
    return [(at - recorded[t]).total_seconds() * 1000 for t, at in done.items() if t in recorded]


# The hop in the middle of the chain the end-to-end latency spans: dispatch's outbox row of the
# ticket's work order, whose created_at is its transaction's start (the server's now()), as the
# SLA monitor's deadline row's is.
WORK_ORDER_CREATED = "brightline.dispatch.work-order.created.v2"


async def hops(
    stack: Stack, recorded: dict[str, datetime], done: dict[str, datetime], dispatch_mark: int
) -> dict[str, list[float]]:
    """Where the end-to-end latency of `done`'s tickets went (ms each): from the ticket's
    recording to dispatch's transaction of its work order (the rest of the POST, intake's relay,
    the broker, dispatch's fetch pace and its batch's handlers before their first statement),
    and from there to the SLA monitor's transaction of its deadline (the rest of dispatch's
    batch, dispatch's relay, the broker, the SLA monitor's fetch and handlers). The relays'
    published_at is no such point: it is when the relay saw the broker's acknowledgement, on its
    turn on a busy event loop, and a consumer may have fetched the record before (measured:
    intake's at 258 ms p99 after the ticket's recording when the whole chain's was 222)."""
    async with stack.held(stack.db["dispatch"]) as conn:
        ordered = {
            r["t"]: r["created_at"]
            for r in await conn.fetch(
                "SELECT data->>'ticket_id' AS t, created_at FROM outbox"
                " WHERE id > $1 AND event_type = $2",
                dispatch_mark,
                WORK_ORDER_CREATED,
            )
        }
    found: dict[str, list[float]] = {"to dispatch": [], "to the SLA monitor": []}
    for ticket, opened in done.items():
        if ticket in recorded and ticket in ordered:
            found["to dispatch"].append((ordered[ticket] - recorded[ticket]).total_seconds() * 1000)
            found["to the SLA monitor"].append((opened - ordered[ticket]).total_seconds() * 1000)
    return found


async def closed_load(stack: Stack, scale, seconds: float, run: str, name: str) -> dict:
    """N agents posting repair tickets back to back for `seconds`."""
    return await run_loadgen_async(
        {
            "mode": "closed",
            "concurrency": scale.sustained_concurrency,
            "duration": seconds,
            "url": f"{stack.url('intake')}/tickets",
            "headers": bearer(Role.AGENT, subject="agent-bench-1"),
            "body_kind": "repair",
            "idempotency": True,
            "collect_ids": True,
            "run": run,
            "seq_start": 0,
        },
        stack.out_dir,
        name,
        timeout=seconds + 120,
    )


async def drained(stack: Stack, seconds: float = 60) -> None:
    """Until every consumer group has caught up (committed offsets, so up to a second late):
    a run's cost is taken once the services that trail it (records, the read side) have applied
    it too, and the 70 % run does not share the box with the saturated run's backlog."""

    async def caught_up() -> bool:
        return not any((await stack.consumer_lag()).values())

    await wait_for(caught_up, timeout=seconds, interval=0.25)


async def warm_up(stack: Stack, scale, meter: CostMeter) -> Result:
    """The same load for a while, every ticket applied; its CPU per ticket is the cold figure."""
    start = await meter.snapshot()
    since = await outbox_mark(stack)
    report = await closed_load(stack, scale, scale.sustained_seconds, stack.run_id + "w", "warmup")
    ids = report["ids"]

    async def all_applied():
        return len(await applied(stack, ids, since)) == len(ids) or None

    await wait_for(all_applied, timeout=max(90, 3 * scale.sustained_seconds), interval=0.25)
    await drained(stack)
    costs = await meter.end(start, cpu_end=await meter.snapshot())
    n = max(1, len(ids))
    return Result(
        "sustained",
        "CPU per ticket, cold (warm-up: first load on a fresh stack)",
        1000 * costs["cpu"] / n,
        "ms",
        note=f"{per_service(costs, 'cpu', n, scale=1000)}; {jit_note(costs, n)}; {len(ids)} "
        "tickets; not a target",
    )


def box_while_loaded(window: dict[str, float], load: dict, idle: dict[str, float]) -> str:
    """How busy the box was while an open-loop load ran: what its slowest requests waited
    behind (the cores' other work, an autovacuum worker), not a figure of their own. The
    window of the two snapshots also holds the load generator's start and end: their seconds
    count at the idle rate."""
    loaded = max(1e-3, load["finished"] - load["started"])
    outside = max(0.0, window["seconds"] - loaded)

    def cores(*keys: str) -> float:
        spent = sum(window.get(k, 0.0) - idle.get(k, 0.0) * outside for k in keys)
        return max(0.0, spent) / loaded

    services = [
        k for k in window if k.startswith("cpu:") and k not in ("cpu:postgres", "cpu:kafka")
    ]
    parts = {
        "services": cores(*services),
        "PostgreSQL": cores("cpu:postgres"),
        "Kafka": cores("cpu:kafka"),
        "Kafka's JIT compilers": cores("jit"),
        "the bench's queries": cores("observer"),
        "the load generator": load["load_cpu_seconds"] / loaded,
    }
    busy = sum(parts.values())
    return (
        f"the box while the load ran: {busy:.2f} of {os.cpu_count()} cores busy ("
        + ", ".join(f"{name} {value:.2f}" for name, value in parts.items())
        + f"; autovacuum workers and other ended backends {cores('pg:autovacuum', 'pg:ended'):.2f}"
        " of PostgreSQL's): what the slowest requests waited behind"
    )


def fetches(figure: str, costs: dict[str, float], tickets: int) -> Result:
    """The consumers' fetch requests per 100 tickets, and the partitions they named per ticket,
    per service (each request and each partition named cost the client and the broker, empty
    or not: fetch_cost.py)."""
    return Result(
        "sustained",
        figure,
        100 * sum(v for k, v in costs.items() if k.startswith("fetches:")) / tickets,
        "fetches",
        note=f"{per_service(costs, 'fetches', tickets, scale=100)}; partitions named per ticket: "
        f"{per_service(costs, 'partitions', tickets)}",
    )


def rounds(figure: str, costs: dict[str, float], tickets: int) -> Result:
    """The outbox relays' rounds that sent rows, per 100 tickets, per service (each costs a
    statement and, at the broker, a produce request per partition leader)."""
    return Result(
        "sustained",
        figure,
        100 * sum(v for k, v in costs.items() if k.startswith("rounds:")) / tickets,
        "rounds",
        note=per_service(costs, "rounds", tickets, scale=100),
    )


def in_the_kernel(costs: dict[str, float], tickets: int) -> Result:
    """The system time among the CPU per ticket, by process, with its share of each: the
    kernel's work of the sockets (a message to PostgreSQL or the broker is charged to its
    sender), the scheduler's and the page faults. A sampling profiler cannot tell it apart: a
    thread preempted inside send() by the process it just woke is sampled there, holding the GIL,
    while it waits for a core (py-spy --gil put a third of dispatch's samples in socket writes
    where the kernel's share of its CPU was 6-10 %)."""
    shares = ", ".join(
        f"{key[len('kernel:') :]} {1000 * value / tickets:.2f} "
        f"({100 * value / max(1e-9, costs.get('cpu:' + key[len('kernel:') :], 0.0)):.0f} %)"
        for key, value in sorted(costs.items())
        if key.startswith("kernel:")
    )
    return Result(
        "sustained",
        "kernel (system) time per ticket",
        1000 * sum(v for k, v in costs.items() if k.startswith("kernel:")) / tickets,
        "ms",
        note=f"{shares}: of each process's CPU per ticket, the share spent in the kernel "
        "(PostgreSQL's with the bench's own queries', Kafka's with its JIT compilers': both "
        "kept out of the CPU figure, both small)",
    )


def rows_written(costs: dict[str, float], tickets: int) -> Result:
    """Rows the services' statements wrote per ticket, by kind and by service: a count that
    does not move with the box's speed, and where a new write (or an update that could have
    been avoided) shows first."""
    kinds = ", ".join(
        f"{kind} {sum(v for k, v in costs.items() if k.startswith(f'{kind}:')) / tickets:.1f}"
        for kind in ROW_WRITES
    )
    by_service: dict[str, float] = {}
    for key, value in costs.items():
        kind, _, service = key.partition(":")
        if kind in ROW_WRITES:
            by_service[service] = by_service.get(service, 0.0) + value
    return Result(
        "sustained",
        "rows written per ticket",
        sum(by_service.values()) / tickets,
        "rows",
        note=f"{kinds}; "
        + ", ".join(f"{s} {v / tickets:.1f}" for s, v in sorted(by_service.items()))
        + " (pg_stat_database.tup_*: tables, outboxes, inboxes and audit trails; index entries "
        "not counted); by table: "
        + ", ".join(
            f"{key[len('table:') :]} {value / tickets:.1f}"
            for key, value in sorted(costs.items(), key=lambda item: -item[1])
            if key.startswith("table:") and value / tickets >= 0.05
        ),
    )


async def run(stack: Stack, scale, figures: dict) -> list[Result]:
    headers = bearer(Role.AGENT, subject="agent-bench-1")
    url = f"{stack.url('intake')}/tickets"
    d = scale.sustained_seconds
    meter = CostMeter(stack)
    await meter.measure_idle()
    cold = await warm_up(stack, scale, meter)
    print(f"    warmed up: {cold.value:.1f} ms CPU per ticket cold ({cold.note})", flush=True)
    start = await meter.snapshot()
    since = await outbox_mark(stack)
    t0 = time.time()
    report = await closed_load(stack, scale, d, stack.run_id + "s", "sustained")
    ids = report["ids"]
    if not ids:
        raise RuntimeError(f"no ticket accepted: {report['statuses']} {report['errors']}")
    http_rate = len(ids) / (report["finished"] - report["started"])

    async def all_applied():
        done = await applied(stack, ids, since)
        return done if len(done) == len(ids) else None

    done = await wait_for(all_applied, timeout=max(90, 3 * d), interval=0.25) or await applied(
        stack, ids, since
    )
    await drained(stack)
    costs = await meter.end(start, cpu_end=await meter.snapshot())
    orders = await work_orders(stack, ids)
    e2e_ms = e2e_latencies(await recorded_times(stack, done), done)
    last = max(done.values()).timestamp() if done else time.time()
    e2e_rate = len(done) / (last - report["started"])
    figures["sustained"] = e2e_rate
    lat = report["latencies_ms"]
    fivexx = sum(v for k, v in report["statuses"].items() if k.startswith("5"))

    # 70 % of the sustained rate, open loop
    rate = max(1.0, 0.7 * e2e_rate)
    before70 = await meter.snapshot()
    since70 = await outbox_mark(stack)
    dispatch_mark70 = await outbox_mark(stack, "dispatch")
    seventy = await run_loadgen_async(
        {
            "mode": "open",
            "phases": [[d / 2, rate]],
            "max_inflight": 256,
            "url": url,
            "headers": headers,
            "body_kind": "repair",
            "idempotency": True,
            "run": stack.run_id + "s70",
            "seq_start": 0,
            "grace": 30,
            "collect_ids": True,
        },
        stack.out_dir,
        "sustained70",
        timeout=d + 120,
    )
    during70 = (await meter.snapshot()).minus(before70)
    p99_70 = pct(seventy["latencies_ms"], 99)
    ids70 = seventy["ids"]

    async def all_applied70():
        got = await applied(stack, ids70, since70)
        return got if len(got) == len(ids70) else None

    done70 = await wait_for(all_applied70, timeout=max(90, 3 * d), interval=1) or await applied(
        stack, ids70, since70
    )
    recorded70 = await recorded_times(stack, done70)
    e2e70 = e2e_latencies(recorded70, done70)
    hops70 = await hops(stack, recorded70, done70, dispatch_mark70)
    gc70 = (await meter.snapshot()).minus(before70)
    # The 70 % run's CPU, fetches and relay rounds, less the idle rate (long polls among it) of
    # its window: at a load the consumers keep up with, a fetch, a batch and a round bring
    # fewer records than in the saturated run.
    idle = meter.idle or {}
    per_ticket70 = {
        k: max(0.0, v - idle.get(k, 0.0) * gc70["seconds"])
        for k, v in gc70.items()
        if k in ("cpu", "jit", "observer", "round_trips", "commits")
        or k.startswith(("cpu:", "pg:", "trips:", "commits:", "fetches:", "partitions:", "rounds:"))
    }
    n70 = max(1, len(done70))
    insert = figures.get("insert")
    bare = figures.get("http")
    lost = len(ids) - len(done)
    n = max(1, len(done))
    breakdown = per_service(costs, "cpu", n, scale=1000)
    commits_by = per_service(costs, "commits", n)
    trips_by = per_service(costs, "trips", n)
    postgres_by = per_service(costs, "pg", n, scale=1000)
    gc_ms = 1000 * sum(v for k, v in costs.items() if k.startswith("gc:")) / n
    long_gc = sum(v for k, v in costs.items() if k.startswith("long_gc:"))
    long_gc70 = sum(v for k, v in gc70.items() if k.startswith("long_gc:"))
    stalls70 = ", ".join(
        f"{k.split(':', 1)[1]} {v:.0f}" for k, v in sorted(gc70.items()) if k.startswith("stalls:")
    )
    return [
        Result(
            "sustained",
            "CPU per ticket (services+PG+Kafka, less idle)",
            1000 * costs["cpu"] / n,
            "ms",
            "<= 5",
            note=f"{breakdown}; {jit_note(costs, n)} (a fresh JVM compiling its hot code, "
            f"once); idle {costs['idle_cpu_share']:.2f} CPU subtracted; after a warm-up",
        ),
        cold,
        in_the_kernel(costs, n),
        Result(
            "sustained",
            "PostgreSQL CPU per ticket",
            1000 * costs.get("cpu:postgres", 0.0) / n,
            "ms",
            note=f"by whose process: {postgres_by} (service: its database's backends; ended: "
            "backends that ended in the window)",
        ),
        Result(
            "sustained",
            "commits per ticket",
            costs["commits"] / n,
            "commits",
            "<= 1.5",
            note=f"{commits_by} (pg_stat_database.xact_commit: read-only transactions too)",
        ),
        Result(
            "sustained",
            "write transactions per ticket",
            costs["writes"] / n,
            "xids",
            "<= 1.5",
            note="transaction ids taken: the commits that write WAL",
        ),
        Result("sustained", "WAL fsyncs per ticket", costs["fsyncs"] / n, "fsyncs", "<= 1.2"),
        rows_written(costs, n),
        Result(
            "sustained",
            "WAL bytes per ticket",
            costs["wal_bytes"] / n / 1024,
            "KiB",
            note=f"{costs['wal_fpi'] / n:.1f} full-page images per ticket (pg_stat_wal, the "
            "whole cluster: every service's tables, outboxes, inboxes and audit trails)",
        ),
        Result(
            "sustained",
            "SQL round trips per ticket",
            costs["round_trips"] / n,
            "trips",
            note=f"{trips_by} (client-side count: statements + BEGIN + COMMIT/ROLLBACK)",
        ),
        fetches("Kafka fetch requests per 100 tickets", costs, n),
        fetches("Kafka fetch requests per 100 tickets at 70 % load", per_ticket70, n70),
        Result(
            "sustained",
            "CPU per ticket at 70 % load",
            1000 * per_ticket70["cpu"] / n70,
            "ms",
            note=f"{per_service(per_ticket70, 'cpu', n70, scale=1000)}; PostgreSQL by whose: "
            f"{per_service(per_ticket70, 'pg', n70, scale=1000)}; SQL round trips "
            f"{per_ticket70['round_trips'] / n70:.1f} ({per_service(per_ticket70, 'trips', n70)}), "
            f"commits {per_ticket70['commits'] / n70:.1f} per ticket; less the idle rate; "
            f"{jit_note(per_ticket70, n70)}; not a target: a fetch, a batch's transaction and a "
            "relay round are shared by fewer tickets than when saturated",
        ),
        rounds("outbox relay rounds per 100 tickets", costs, n),
        rounds("outbox relay rounds per 100 tickets at 70 % load", per_ticket70, n70),
        Result(
            "sustained",
            "garbage-collector pauses per ticket",
            gc_ms,
            "ms",
            note=f"{per_service(costs, 'gc', n, scale=1000)} (every service process waits while "
            "its collector runs: brightline_gc_pause_seconds)",
        ),
        Result(
            "sustained",
            "garbage-collector pauses over 50 ms",
            long_gc + long_gc70,
            "pauses",
            note=f"{long_gc:.0f} saturated{long_pauses(costs)}, {long_gc70:.0f} at 70 % load"
            f"{long_pauses(gc70)}",
        ),
        Result(
            "sustained",
            "event-loop stalls over 25 ms at 70 % load",
            sum(v for k, v in gc70.items() if k.startswith("stalls:")),
            "stalls",
            note=f"{stalls70} (a timer woken over 25 ms late, every 0.1 s: "
            "brightline_event_loop_lag_seconds; saturated: "
            f"{sum(v for k, v in costs.items() if k.startswith('stalls:')):.0f})",
        ),
        Result(
            "sustained",
            "intake tickets/s end to end",
            e2e_rate,
            "tickets/s",
            ">= 400",
            note=f"{len(ids)} accepted in {d:.0f}s at {scale.sustained_concurrency} conns, HTTP {http_rate:.0f}/s; "
            f"{orders} work orders; {lost} not applied; 5xx {fivexx}; errors {report['errors']} ; "
            f"wall {time.time() - t0:.0f}s",
        ),
        Result(
            "sustained",
            "ratio to raw insert baseline",
            100 * e2e_rate / insert if insert else None,
            "%",
            # The issue sets no target for the ratio: it is what compares runs on a shared box.
            # Its tickets/s target, as a ratio to this run's baseline:
            note=f"400 tickets/s would be {100 * 400 / insert:.1f} %" if insert else "",
        ),
        Result(
            "sustained",
            "ratio to bare FastAPI baseline",
            100 * e2e_rate / bare if bare else None,
            "%",
        ),
        Result("sustained", "POST p50 (saturated)", pct(lat, 50), "ms"),
        Result("sustained", "POST p99 (saturated)", pct(lat, 99), "ms"),
        Result(
            "sustained",
            "POST p50 at 70 % load",
            pct(seventy["latencies_ms"], 50),
            "ms",
            note=f"{rate:.0f}/s offered, {seventy['sent']} sent, {seventy['late']} started >1s late",
        ),
        Result(
            "sustained",
            "POST p99 at 70 % load",
            p99_70,
            "ms",
            "<= 25",
            note=box_while_loaded(during70, seventy, meter.idle or {}),
        ),
        Result(
            "sustained",
            "end-to-end p99 saturated (recorded -> deadline opened)",
            pct(e2e_ms, 99),
            "ms",
            note="queueing included: the load is above what the chain drains",
        ),
        Result("sustained", "end-to-end p50 at 70 % load", pct(e2e70, 50), "ms"),
        Result(
            "sustained",
            "end-to-end p99 at 70 % load",
            pct(e2e70, 99),
            "ms",
            "<= 250",
            note=f"{len(done70)}/{len(ids70)} applied",
        ),
        Result(
            "sustained",
            "end-to-end p99 at 70 %, up to dispatch",
            pct(hops70["to dispatch"], 99),
            "ms",
            note="p50 / p99 by hop: "
            + ", ".join(
                f"{name} {pct(v, 50):.0f} / {pct(v, 99):.0f}" for name, v in hops70.items() if v
            )
            + f" ({len(hops70['to dispatch'])} tickets; see intake_sustained.hops)",
        ),
    ]
