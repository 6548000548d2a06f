"""Scenario: scale out. The sustained closed loop twice, back to back in the same run: with one
process per service, then with a second replica of each (intake's two behind the load
generator's round robin; dispatch, sla_monitor, casework and callback each a second member of
their consumer group sharing the topics' partitions, and a second relay sharing the outbox shards).

Reported: end-to-end tickets/s of each and their ratio, and CPU per ticket with one and with two
replicas, each after an unmeasured run of the same load (warm caches, as in the sustained
scenario).
On a 2-core box both replicas compete for the same two cores: the figure says whether a second
instance raises throughput here, not what it would do on a machine with cores to spare. With
`--instance-cpu CORES` every instance of the replicated services is held to that share of a core
(brightline.platform.local.cpu_shares, as a pod's CPU limit), so a second instance brings CPU of its own.
"""

from __future__ import annotations

import asyncio
import time

from common import Result, run_loadgen_async
from cost import CostMeter, jit_note, per_service
from intake_sustained import applied, drained, outbox_mark
from stack import Stack, wait_for

from brightline.platform.auth import Role
from brightline.platform.local.cpu_shares import CpuGroups
from brightline.platform.local.paths import free_port
from brightline.platform.testing import ServiceProcess, bearer

REPLICATED = ("intake", "dispatch", "sla_monitor", "casework", "callback")


async def closed_loop(stack: Stack, urls: list[str], seconds: float, concurrency: int, tag: str):
    meter = CostMeter(stack)
    await meter.measure_idle(3.0)
    start = await meter.snapshot()
    since = await outbox_mark(stack)
    report = await run_loadgen_async(
        {
            "mode": "closed",
            "concurrency": concurrency,
            "duration": seconds,
            "urls": [f"{u}/tickets" for u in urls],
            "headers": bearer(Role.AGENT, subject="agent-bench-2"),
            "body_kind": "repair",
            "idempotency": True,
            "collect_ids": True,
            "run": stack.run_id + tag,
            "seq_start": 0,
        },
        stack.out_dir,
        f"scaleout-{tag}",
        timeout=seconds + 120,
    )
    ids = report["ids"]
    if not ids:
        raise RuntimeError(f"no ticket accepted: {report['statuses']} {report['errors']}")

    async def all_applied():
        done = await applied(stack, ids, since)
        return done if len(done) == len(ids) else None

    done = await wait_for(all_applied, timeout=max(90, 3 * seconds), interval=0.25)
    done = done or await applied(stack, ids, since)
    costs = await meter.end(start, cpu_end=await meter.snapshot())
    last = max(done.values()).timestamp() if done else time.time()
    rate = len(done) / (last - report["started"])
    return rate, len(ids), len(done), costs


async def run(stack: Stack, scale, figures: dict) -> list[Result]:
    cores = scale.extra.get("instance_cpu")
    # The services' own groups when they are weighed as pods, else groups for the limits alone.
    own = CpuGroups(f"bench-{stack.run_id}-limits") if cores and not stack.cpu_groups else None
    limits = stack.cpu_groups or own
    try:
        one, sent1, done1, costs1, two, sent2, done2, costs = await _both(
            stack, scale, limits, cores
        )
    finally:
        if own is not None:
            own.release()
        elif limits is not None and cores:
            for name in REPLICATED:  # the primaries go on unlimited (their weights stay)
                limits.limit(name, stack.procs[name].process.pid, None)
        await _back_to_one(stack)
    n = max(1, done2)
    limited = (
        f"; each instance of {', '.join(REPLICATED)} held to {cores:g} of a core (--instance-cpu)"
        if cores
        else ""
    )
    return [
        Result(
            "scaleout",
            "tickets/s end to end, 1 instance each",
            one,
            "tickets/s",
            note=f"{done1}/{sent1} applied{limited}",
        ),
        Result(
            "scaleout",
            "tickets/s end to end, 2 instances each",
            two,
            "tickets/s",
            note=f"{done2}/{sent2} applied; intake, dispatch, sla_monitor, casework, callback x2{limited}",
        ),
        Result("scaleout", "ratio 2 instances / 1 instance", 100 * two / one if one else None, "%"),
        Result(
            "scaleout",
            "CPU per ticket, 1 instance",
            1000 * costs1["cpu"] / max(1, done1),
            "ms",
            "<= 5",
            note=f"{per_service(costs1, 'cpu', max(1, done1), scale=1000)}; PostgreSQL by whose: "
            f"{per_service(costs1, 'pg', max(1, done1), scale=1000)}; "
            f"{jit_note(costs1, max(1, done1))}",
        ),
        Result(
            "scaleout",
            "CPU per ticket, 2 instances",
            1000 * costs["cpu"] / n,
            "ms",
            "<= 5",
            note=f"{per_service(costs, 'cpu', n, scale=1000)}; PostgreSQL by whose: "
            f"{per_service(costs, 'pg', n, scale=1000)}; {jit_note(costs, n)}",
        ),
        Result(
            "scaleout",
            "commits per ticket, 2 instances",
            costs["commits"] / n,
            "commits",
            note=f"{per_service(costs, 'commits', n)}; SQL round trips "
            f"{per_service(costs, 'trips', n)}; relay rounds per 100 tickets "
            f"{per_service(costs, 'rounds', n, scale=100)}; Kafka fetches per 100 tickets "
            f"{per_service(costs, 'fetches', n, scale=100)}",
        ),
        Result(
            "scaleout", "write transactions per ticket, 2 instances", costs["writes"] / n, "xids"
        ),
    ]


async def _back_to_one(stack: Stack) -> None:
    """Stop the replicas, so that the scenarios after this one measure one process per service,
    as they do alone (until 2026-12-04 the replicas stayed up: in a whole `make bench` the storm
    ran beside a second instance of each, which shared its events, and its CPU per call counted
    both). Their consumers leave
    their groups; the stack is at rest again once every group has caught up."""
    replicas, stack.replicas = stack.replicas, []
    for name, proc in reversed(replicas):
        await asyncio.to_thread(proc.stop)
        if stack.cpu_groups is not None:
            stack.cpu_groups.remove(f"{name}-2")
    await drained(stack)


async def _both(stack: Stack, scale, limits: CpuGroups | None, cores: float | None):
    """One instance of each, then two: both loops' (rate, sent, applied, costs)."""
    d = scale.sustained_seconds
    c = scale.sustained_concurrency
    if limits is not None and cores:
        for name in REPLICATED:
            limits.limit(name, stack.procs[name].process.pid, cores)
    # Each measured loop follows an unmeasured one of the same load, as the sustained scenario's
    # does: fresh processes (the replicas always, the stack when this scenario runs alone) first
    # fill their statement caches, pools and PostgreSQL's plan caches, and the broker compiles.
    await closed_loop(stack, [stack.url("intake")], d, c, "x1w")
    one, sent1, done1, costs1 = await closed_loop(stack, [stack.url("intake")], d, c, "x1")
    (stack.log_dir / "replica").mkdir(exist_ok=True)
    for name in REPLICATED:
        proc = ServiceProcess(name, free_port(), stack.service_env(name), stack.log_dir / "replica")
        proc.start()
        stack.replicas.append((name, proc))
        if stack.cpu_groups is not None:  # a replica weighs what its pod requests too
            stack.cpu_groups.share(f"{name}-2", proc.process.pid, stack.cpu_shares[name])
        if limits is not None and cores:
            limits.limit(f"{name}-2", proc.process.pid, cores)
    for _, proc in stack.replicas:
        await asyncio.to_thread(proc.wait_ready, 120)
    urls = [stack.url("intake"), *(p.url for n, p in stack.replicas if n == "intake")]
    # The unmeasured loop also covers the consumer groups' rebalance onto the new members.
    await closed_loop(stack, urls, d, c, "x2w")
    two, sent2, done2, costs = await closed_loop(stack, urls, d, c, "x2")
    return one, sent1, done1, costs1, two, sent2, done2, costs
