"""Scenario 3: a storm of "no power" calls.

Topology first (PUT /topology on dispatch: every storm meter under a transformer, 200 meters
per transformer), then the load generator's open mode: background rate, a spike (1,000 calls/s
for 60 s in the full run), background again, total = storm_total calls. Every call is a repair
with fault_scope=building and its own meter and address (so intake does not link it as a repeat
call; dispatch folds it into its transformer's incident).

Measured: 5xx count, client-side failures (timeouts), every accepted ticket reaching dispatch
(work_orders rows), the share folded into incidents (orders with an incident that are not its
lead), and consumer lag (Kafka group offsets vs end offsets, via the admin client) sampled
every 2 s: at the end of the spike, its peak, and how long it took to drain after the load.
Issue 21's targets are printed beside two of them: every call answered within the planned
length (with `--storm-minutes 10` or longer: the default's 5 minutes is a harder storm than the
issue's) and the lag drained within 60 s of the load's end.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from common import NotAvailable, Result, http_ok, pct, run_loadgen_async
from cost import CostMeter, jit_note, per_service
from stack import Stack, wait_for

from brightline.platform.auth import Role
from brightline.platform.testing import bearer

METERS_PER_TRANSFORMER = 200
MAX_INFLIGHT = 512  # the generator's outstanding requests at most (a call centre's agents)
ISSUE_STORM_SECONDS = 600  # issue 21: 100,000 calls within 10 minutes


async def load_topology(stack: Stack, total: int) -> None:
    run = stack.run_id + "x"
    headers = bearer(Role.INTEGRATION, subject="gis-bench")
    async with httpx.AsyncClient(timeout=300) as client:
        chunk = 20_000
        for start in range(0, total, chunk):
            meters = [
                {
                    "meter_no": f"{run}-M{i}",
                    "transformer_id": f"{run}-T{i // METERS_PER_TRANSFORMER}",
                }
                for i in range(start, min(total, start + chunk))
            ]
            transformers = sorted({m["transformer_id"] for m in meters})
            await http_ok(
                client,
                "PUT",
                f"{stack.url('dispatch')}/topology",
                headers=headers,
                json={
                    "transformers": [
                        {"transformer_id": t, "feeder_id": f"{run}-F{k % 10}"}
                        for k, t in enumerate(transformers)
                    ],
                    "meters": meters,
                },
            )


async def dispatch_counts(stack: Stack, ids: list[str]) -> dict:
    """Where the accepted calls are in dispatch. Once an incident is known, intake answers a
    later call of its area with the outage and links the ticket to the incident instead of
    asking for a crew (dispatch keeps it in incident_links): that call arrived too, folded."""
    conn = await stack.connect(stack.db["dispatch"])
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS orders, count(w.incident_id) AS in_incident, "
            "count(*) FILTER (WHERE w.incident_id IS NOT NULL AND i.lead_work_order_id IS DISTINCT FROM w.id) AS folded "
            "FROM work_orders w LEFT JOIN incidents i ON i.id = w.incident_id WHERE w.ticket_id = ANY($1::text[])",
            ids,
        )
        linked = await conn.fetchval(
            "SELECT count(*) FROM incident_links l WHERE l.ticket_id = ANY($1::text[]) "
            "AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.ticket_id = l.ticket_id)",
            ids,
        )
        incidents = await conn.fetchval(
            "SELECT count(DISTINCT incident_id) FROM (SELECT incident_id FROM work_orders "
            "WHERE ticket_id = ANY($1::text[]) UNION ALL SELECT incident_id FROM incident_links "
            "WHERE ticket_id = ANY($1::text[])) AS both_kinds",
            ids,
        )
        return {
            **dict(row),
            "linked": linked,
            "arrived": row["orders"] + linked,
            "folded": row["folded"] + linked,
            "incidents": incidents,
        }
    finally:
        await conn.close()


async def intake_queue(stack: Stack) -> dict:
    """Intake's admission (brightline.platform.admission) from its /metrics: how many requests
    found it busy and queued, how long they waited, how many were shed and why: a slow answer
    is then told apart as time in the queue or time at work."""
    from prometheus_client.parser import text_string_to_metric_families

    async with httpx.AsyncClient(timeout=30) as client:
        text = (await client.get(f"{stack.url('intake')}/metrics")).text
    found: dict = {"queued": 0.0, "wait": 0.0, "shed": {}}
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "http_admission_wait_seconds_count":
                found["queued"] = sample.value
            elif sample.name == "http_admission_wait_seconds_sum":
                total = sample.value
            elif sample.name == "http_requests_shed_total" and sample.value:
                found["shed"][sample.labels["reason"]] = int(sample.value)
    found["wait"] = total / found["queued"] if found["queued"] else 0.0
    return found


async def run(stack: Stack, scale, figures: dict) -> list[Result]:
    total = scale.storm_total
    await load_topology(stack, total)
    spike_n = int(scale.storm_spike_rate * scale.storm_spike_seconds)
    bg_seconds = scale.storm_seconds - scale.storm_spike_seconds
    bg_rate = max(1.0, (total - spike_n) / bg_seconds)
    phases = [
        [bg_seconds / 2, bg_rate],
        [scale.storm_spike_seconds, scale.storm_spike_rate],
        [bg_seconds / 2, bg_rate],
    ]
    spike_end_offset = bg_seconds / 2 + scale.storm_spike_seconds

    samples: list[tuple[float, int]] = []
    # Per group (the read side's too): its largest lag, and when it was last seen behind.
    peaks: dict[str, int] = {}
    behind_at: dict[str, float] = {}
    stop = asyncio.Event()

    async def sample_lag() -> None:
        while not stop.is_set():
            try:
                lag = await stack.consumer_lag()
                for group, behind in lag.items():
                    peaks[group] = max(peaks.get(group, 0), behind)
                    if behind:
                        behind_at[group] = time.time()
                samples.append(
                    (
                        time.time(),
                        sum(lag.get(g, 0) for g in ("dispatch", "sla_monitor", "intake"))
                        if lag
                        else 0,
                    )
                )
            except Exception as error:  # noqa: BLE001 - a failed sample is just a gap
                print(f"    lag sample failed: {error}", flush=True)
            try:
                await asyncio.wait_for(stop.wait(), 2)
            except TimeoutError:
                pass

    # What a storm call costs the box, measured like a sustained ticket (cost.py): from the
    # load's start until every call has reached dispatch and the lag is drained.
    meter = CostMeter(stack)
    await meter.measure_idle()
    cost_start = await meter.snapshot()
    sampler = asyncio.create_task(sample_lag())
    t0 = time.time()
    report = await run_loadgen_async(
        {
            "mode": "open",
            "phases": phases,
            "max_inflight": MAX_INFLIGHT,
            "timeout": 30,
            "url": f"{stack.url('intake')}/tickets",
            "headers": bearer(Role.AGENT, subject="agent-storm"),
            "body_kind": "nopower",
            "idempotency": True,
            "collect_ids": True,
            "run": stack.run_id + "x",
            "seq_start": 0,
            "grace": 60,
        },
        stack.out_dir,
        "storm",
        timeout=scale.storm_seconds + 300,
    )
    load_end = report["finished"]
    ids = report["ids"]
    queue = await intake_queue(stack)

    async def all_in_dispatch():
        c = await dispatch_counts(stack, ids)
        return c if c["arrived"] >= len(ids) else None

    counts = await wait_for(all_in_dispatch, timeout=180, interval=2) or await dispatch_counts(
        stack, ids
    )

    async def drained():
        lag = await stack.consumer_lag()
        if sum(lag.values()):
            return False
        # The moment it drained is a sample too: the sampler stops now, and its last sample
        # (up to 2 s before) may still show a few records (a 10-minute storm's drain was
        # printed as "not drained" with nothing left).
        samples.append((time.time(), 0))
        return True

    await wait_for(drained, timeout=120, interval=2)
    costs = await meter.end(cost_start, cpu_end=await meter.snapshot())
    left = {group: lag for group, lag in (await stack.consumer_lag()).items() if lag}
    stop.set()
    await sampler
    drained_at = next((t for t, lag in samples if t >= load_end and lag == 0), None)
    spike_end = report["started"] + spike_end_offset
    at_spike_end = min(samples, key=lambda s: abs(s[0] - spike_end))[1] if samples else None
    peak = max((lag for _, lag in samples), default=None)
    fivexx = sum(v for k, v in report["statuses"].items() if k.startswith("5"))
    other = {k: v for k, v in report["statuses"].items() if not k.startswith("2")}
    lost = len(ids) - counts["arrived"]
    folded = 100 * counts["folded"] / counts["arrived"] if counts["arrived"] else None
    sent = report["sent"]
    figures["storm_lag"] = samples and [(t - t0, lag) for t, lag in samples]
    issue_plan = scale.storm_seconds >= ISSUE_STORM_SECONDS
    return [
        Result(
            "storm",
            "calls sent / planned",
            sent,
            "calls",
            note=f"planned {total}; spike "
            f"{scale.storm_spike_rate:.0f}/s for {scale.storm_spike_seconds:.0f}s, background "
            f"{bg_rate:.0f}/s; {report['late']} started >1s late ({report['capped']} waited "
            f"for one of the {MAX_INFLIGHT} answers outstanding)",
        ),
        # The issue's storm is 100,000 calls within 10 minutes (`--storm-minutes 10`): every
        # call answered within the planned length, however far the spike put the load behind.
        # A shorter plan (the default compresses it to 5) is a harder storm than the issue's:
        # no target there.
        Result(
            "storm",
            "every call answered within",
            report["finished"] - report["started"],
            "s",
            f"<= {scale.storm_seconds + 1:.0f}" if issue_plan else "",
            note=f"the planned length, {scale.storm_seconds:.0f} s, and a second for the last "
            f"call's own answer; the generator holds at most {MAX_INFLIGHT} answers "
            "outstanding, so a spike the system cannot absorb stretches the run"
            + ("" if issue_plan else "; a target for the issue's 10 minutes (--storm-minutes 10)"),
        ),
        Result(
            "storm",
            "load generator CPU",
            report["cpu_seconds"],
            "s",
            note=f"{100 * report['cpu_seconds'] / (report['finished'] - report['started']):.0f} % "
            "of one core over the run (near 100 %: the generator, not the system, is late)",
        ),
        Result(
            "storm",
            "accepted (2xx)",
            len(ids),
            "calls",
            note=f"non-2xx {other or 'none'}; client errors {report['errors'] or 'none'}"
            + (f" (first: {report['error_samples'][0]})" if report["error_samples"] else ""),
        ),
        Result("storm", "5xx answers", fivexx, "count", "<= 0"),
        Result("storm", "accepted but lost before dispatch", lost, "tickets", "<= 0"),
        Result(
            "storm",
            "folded into outage incidents",
            folded,
            "%",
            ">= 90",
            note=f"{counts['folded']} of {counts['arrived']} calls in {counts['incidents']} incidents "
            f"({counts['linked']} linked by intake during a known outage)",
        ),
        Result("storm", "POST p99 during storm", pct(report["latencies_ms"], 99), "ms"),
        Result(
            "storm",
            "CPU per call (services+PG+Kafka, less idle)",
            1000 * costs["cpu"] / max(sent, 1),
            "ms",
            note=f"{per_service(costs, 'cpu', max(sent, 1), scale=1000)}; "
            f"{jit_note(costs, max(sent, 1))}; until the lag drained",
        ),
        Result(
            "storm",
            "SQL round trips per call",
            costs["round_trips"] / max(sent, 1),
            "trips",
            note=f"{per_service(costs, 'trips', max(sent, 1))}; commits per call "
            f"{costs['commits'] / max(sent, 1):.1f} ({per_service(costs, 'commits', max(sent, 1))})",
        ),
        Result(
            "storm",
            "intake: requests that queued for a turn",
            queue["queued"],
            "requests",
            note=f"waited {queue['wait']:.1f} s on average; shed with 503: {queue['shed'] or 'none'}",
        ),
        Result("storm", "consumer lag at end of spike", at_spike_end, "records"),
        Result(
            "storm",
            "consumer lag peak",
            peak,
            "records",
            note="dispatch + sla_monitor + intake; each group's own peak: "
            + ", ".join(f"{g} {v:,}" for g, v in sorted(peaks.items())),
        ),
        Result(
            "storm",
            "lag drained after load end",
            (drained_at - load_end) if drained_at else None,
            "s",
            "<= 60",
            note=(
                "each group last seen behind, after load end: "
                + ", ".join(
                    f"{g} {max(0.0, t - load_end):.0f} s" for g, t in sorted(behind_at.items())
                )
            )
            if drained_at
            else f"not drained within 120 s after the applied check; left: {left}",
        ),
    ]


__all__ = ["NotAvailable", "run"]
