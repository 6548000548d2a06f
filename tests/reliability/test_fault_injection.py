"""Faults under load: the broker restarts, every service is SIGKILLed in turn and started again,
PostgreSQL restarts, all while agents keep recording repair and complaint tickets. Then we
reconcile, straight from each service's database: nothing accepted is lost, nothing is done
twice.

The test owns its broker and database (it restarts them, so it cannot share the session's),
and runs every service found under services/ as its own OS process, as in production. The
load client behaves as a real one: each ticket has an Idempotency-Key, and a connection error,
timeout or 5xx is retried with the same key until the ticket is accepted.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from brightline.platform.auth import Role
from brightline.platform.db import database_url, server_url
from brightline.platform.local import LocalKafka, LocalPostgres, project_root
from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.problems import PROBLEM_JSON
from brightline.platform.testing import (
    ServiceProcess,
    bearer,
    service_names,
    settings_class,
)

# Waits below are bounded by progress (a log that grows, counts that move), not by a clock sized
# for a quiet machine; this timeout only stops a hang.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

AGENTS = 3  # concurrent agents recording tickets
PAUSE = 0.3  # seconds each agent waits between two tickets
STALL = 120  # seconds without any progress after which a wait gives up


@pytest.fixture(scope="module")
def own_infra(tmp_path_factory):
    kafka = LocalKafka(tmp_path_factory.mktemp("fault-kafka"), heap="512m")
    # Not under pytest's tmp: the server runs as pgserver's own unprivileged user.
    pg_dir = project_root() / ".local" / "fault-pg" / uuid.uuid4().hex[:8]
    postgres = LocalPostgres(pg_dir)
    try:
        kafka.start()
        url = postgres.start()
        yield kafka, postgres, url
    finally:
        kafka.discard()
        postgres.discard()


def database_names() -> dict[str, str]:
    return {name: settings_class(name)().database_name for name in service_names()}


@pytest.fixture(scope="module")
def stack(own_infra, oidc_issuer, tmp_path_factory):
    kafka, postgres, url = own_infra
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "DATABASE_URL": url,
        "KAFKA_TOPIC_PREFIX": "fault.",
        "BRIGHTLINE_ENV": "development",
        "BRIGHTLINE_OIDC_ISSUER": oidc_issuer,
        "DB_POOL_SIZE": "8",
        "LOG_JSON": "false",
    }
    logs = tmp_path_factory.mktemp("fault-logs")
    procs = {name: ServiceProcess(name, free_port(), env, logs) for name in service_names()}
    for proc in procs.values():
        proc.start()
    try:
        for proc in procs.values():
            wait_ready_by_progress(proc, stall=STALL)
        yield kafka, postgres, url, procs
    finally:
        for proc in procs.values():
            proc.stop()


@dataclass
class Load:
    accepted: dict[str, dict] = field(default_factory=dict)  # idempotency key -> ticket
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    replayed: int = 0
    server_errors: list[str] = field(default_factory=list)  # 5xx not answered as 503 problem+json
    rejected: list[str] = field(default_factory=list)
    running: bool = True


def ticket_body(key: str, n: int) -> dict:
    common = {"caller_name": "压测", "phone": f"139{n:08d}", "address": f"压测路{n}号{key[-6:]}"}
    if n % 2:
        return {
            "ticket_type": "repair",
            "description": f"停电 {key}",
            "fault_scope": "own_home",
            "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
            **common,
        }
    return {
        "ticket_type": "complaint",
        "description": f"投诉 {key}",
        "complaint_subtype": "service",
        **common,
    }


async def agent(intake_url: str, load: Load, numbers) -> None:
    headers = bearer(Role.AGENT, subject="agent-load", staff_no="2001", name="压测")
    async with httpx.AsyncClient(timeout=5) as http:
        while load.running:
            n = next(numbers)
            key = f"load-{uuid.uuid4().hex}"
            body = ticket_body(key, n)
            while True:  # a real client: same key until the answer arrives
                try:
                    response = await http.post(
                        f"{intake_url}/tickets",
                        json=body,
                        headers={**headers, "Idempotency-Key": key},
                    )
                except httpx.TransportError as error:
                    load.errors[type(error).__name__] = load.errors.get(type(error).__name__, 0) + 1
                else:
                    if response.status_code < 300:
                        load.accepted[key] = {**response.json(), "ticket_type": body["ticket_type"]}
                        load.replayed += response.headers.get("Idempotent-Replayed") == "true"
                        break
                    if response.status_code < 500:
                        load.rejected.append(f"{response.status_code} {response.text[:200]}")
                        break
                    load.errors[str(response.status_code)] = (
                        load.errors.get(str(response.status_code), 0) + 1
                    )
                    if (
                        response.status_code != 503
                        or response.headers.get("content-type") != PROBLEM_JSON
                        or "Retry-After" not in response.headers
                    ):
                        load.server_errors.append(f"{response.status_code} {response.text[:120]}")
                load.retries += 1
                await asyncio.sleep(0.3)
            await asyncio.sleep(PAUSE)


def inject_faults(
    kafka: LocalKafka, postgres: LocalPostgres, procs: dict[str, ServiceProcess], log: list
) -> None:
    def step(what, action):
        started = time.monotonic()
        action()
        log.append(f"{what} ({time.monotonic() - started:.1f}s)")

    time.sleep(4)
    step("broker restarted", kafka.restart)
    time.sleep(2)
    for name, proc in procs.items():

        def crash_and_start(proc=proc):
            proc.kill()
            time.sleep(1)
            proc.start()
            wait_ready_by_progress(proc, stall=STALL)

        step(f"{name} SIGKILLed and started again", crash_and_start)
        time.sleep(1)
    step("PostgreSQL restarted", postgres.restart)
    time.sleep(4)


async def scalar_rows(url: str, database: str, sql: str) -> list:
    engine = create_async_engine(database_url(server_url(url), database))
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()


async def reconcile(url: str, load: Load) -> dict:
    db = database_names()
    tickets = await scalar_rows(url, db["intake"], "SELECT id, type, description FROM tickets")
    by_id = {t.id: t for t in tickets}
    descriptions = [t.description for t in tickets]
    repairs = {t.id for t in tickets if t.type == "repair"}
    complaints = {t.id for t in tickets if t.type == "complaint"}
    orders = await scalar_rows(url, db["dispatch"], "SELECT id, ticket_id FROM work_orders")
    cases = await scalar_rows(url, db["casework"], "SELECT id, ticket_id FROM cases")
    deadlines = await scalar_rows(
        url,
        db["sla_monitor"],
        "SELECT subject_id FROM deadlines WHERE subject_type = 'work_order' AND limit_key LIKE 'repair.arrival.%'",
    )
    order_of = [o.ticket_id for o in orders]
    case_of = [c.ticket_id for c in cases]
    deadline_of = [d.subject_id for d in deadlines]
    counts = {
        "accepted": len(load.accepted),
        "accepted missing in intake": sum(t["id"] not in by_id for t in load.accepted.values()),
        "accepted recorded more than once": sum(
            sum(key in d for d in descriptions) > 1 for key in load.accepted
        ),
        "intake tickets": len(tickets),
        "repairs": len(repairs),
        "work orders": len(orders),
        "repairs without exactly one work order": sum(order_of.count(r) != 1 for r in repairs),
        "work orders for no repair": sum(t not in repairs for t in order_of),
        "complaints": len(complaints),
        "cases": len(cases),
        "complaints without exactly one case": sum(case_of.count(c) != 1 for c in complaints),
        "cases for no complaint": sum(t not in complaints for t in case_of),
        "arrival deadlines": len(deadlines),
        "work orders without exactly one arrival deadline": sum(
            deadline_of.count(o.id) != 1 for o in orders
        ),
    }
    for service, database in db.items():
        [(rows, distinct)] = await scalar_rows(
            url, database, "SELECT count(*), count(DISTINCT (consumer, event_id)) FROM inbox"
        )
        [(emitted, distinct_events, unpublished)] = await scalar_rows(
            url,
            database,
            "SELECT count(*), count(DISTINCT event_id), count(*) FILTER (WHERE published_at IS NULL) "
            "FROM outbox",
        )
        counts[f"{service} inbox rows / distinct"] = f"{rows}/{distinct}"
        counts[f"{service} outbox events / unpublished"] = f"{emitted}/{unpublished}"
        counts[f"{service} events applied twice"] = rows - distinct
        counts[f"{service} events emitted twice"] = emitted - distinct_events
    # One event per new aggregate: a redelivery re-applied would emit its event again.
    [(recorded,)] = await scalar_rows(
        url,
        db["intake"],
        "SELECT count(*) FROM outbox WHERE event_type = 'brightline.intake.ticket.recorded.v2'",
    )
    [(created,)] = await scalar_rows(
        url,
        db["dispatch"],
        "SELECT count(*) FROM outbox WHERE event_type = "
        "'brightline.dispatch.work-order.created.v2'",
    )
    counts["ticket.recorded events != tickets"] = recorded - len(tickets)
    counts["work-order.created events != work orders"] = created - len(orders)
    return counts


async def settled(check, progress, *, interval: float = 0.5, stall: float = STALL):
    """Poll check() until it is truthy; fail only when progress() has not changed for `stall`
    seconds."""
    import inspect

    async def value(fn):
        result = fn()
        return await result if inspect.isawaitable(result) else result

    last, moved_at = await value(progress), time.monotonic()
    while True:
        if result := await value(check):
            return result
        current = await value(progress)
        if current != last:
            last, moved_at = current, time.monotonic()
        elif time.monotonic() - moved_at > stall:
            raise AssertionError(f"no progress for {stall}s; last: {current!r}")
        await asyncio.sleep(interval)


BAD = ("missing", "more than once", "without exactly one", "for no", "twice", "!=")


def problems(counts: dict) -> dict:
    bad = {k: v for k, v in counts.items() if any(b in k for b in BAD) and v}
    bad.update(
        {k: v for k, v in counts.items() if k.endswith("unpublished") and not v.endswith("/0")}
    )
    return bad


async def test_faults_under_load_lose_nothing_and_apply_nothing_twice(stack, report):
    kafka, postgres, url, procs = stack
    load, fault_log = Load(), []
    numbers = itertools.count(1)
    agents = [asyncio.create_task(agent(procs["intake"].url, load, numbers)) for _ in range(AGENTS)]
    try:
        await asyncio.to_thread(inject_faults, kafka, postgres, procs, fault_log)
    finally:
        load.running = False
        await settled(
            lambda: all(a.done() for a in agents),
            lambda: (len(load.accepted), load.retries),
        )
        await asyncio.gather(*agents)

    report("faults injected under load:\n  " + "\n  ".join(fault_log))
    report(
        f"load: {len(load.accepted)} tickets accepted, {load.retries} retries with the same key "
        f"({load.errors}), {load.replayed} answered from the idempotency store, {len(load.rejected)} rejected"
    )
    assert not load.rejected, load.rejected[:5]
    assert len(load.accepted) > 50

    async def converged():
        counts = await reconcile(url, load)
        converged.last = counts
        return counts if not problems(counts) else None

    converged.last = {}
    try:
        # Converged, or no count moved for STALL seconds: the system is stuck, not slow.
        counts = await settled(converged, lambda: converged.last, interval=2)
    except AssertionError:
        pytest.fail(
            f"not reconciled, no progress for {STALL}s: {problems(converged.last)}\nservice logs:\n"
            + "\n".join(f"--- {p.name}\n{p.log_tail(1500)}" for p in procs.values())
        )
    finally:
        report(
            "reconciliation after the faults:\n"
            + "\n".join(f"  {k:52} {v}" for k, v in converged.last.items())
        )
    assert counts["accepted"] == len(load.accepted)
    assert counts["intake tickets"] >= counts["accepted"]
    assert counts["work orders"] == counts["repairs"] > 0
    assert counts["cases"] == counts["complaints"] > 0
    assert counts["arrival deadlines"] == counts["work orders"]
    # While the database restarts, a request is told to retry (503, Retry-After), never a bare 500.
    assert not load.server_errors, load.server_errors[:5]
