"""Scenario 5: queue views over a big history.

Intake's `tickets` table gets queue_history closed tickets (two years back) and queue_open open
ones (last three days), spread over queue_agents agents, bulk-loaded server side with
INSERT ... SELECT generate_series (on this 2-core box that beats shipping 10M rows through a
Python COPY; either way the app is bypassed and every index of migration 0001/0002 is
maintained), then ANALYZEd as autovacuum would. Then p95 over queue_requests requests each
(4 concurrent, separate process):

- agent: GET /tickets?open=true (their open queue) and GET /tickets (their newest 200)
- supervisor: GET /tickets?owner=<agent>&open=true (intake), GET /work-orders?status=created
  (dispatch board, after the storm's orders), GET /cases (casework, whatever cases exist)
"""

from __future__ import annotations

import random
import time

import httpx
from common import NotAvailable, Result, http_ok, pct, run_loadgen_async
from stack import Stack

from brightline.platform.auth import Role
from brightline.platform.testing import bearer

FILL = """
INSERT INTO tickets (id, no, type, status, recorded_at, first_ask_owner, description, details, owner,
                     phone, customer_id, address_key, area_code, meter_no, call_id, closed,
                     completed_by, completed_at)
SELECT md5($1 || g)::uuid::text, $1 || g, (ARRAY['repair','consultation','complaint','service_request'])[1 + g % 4],
       CASE WHEN $5 THEN 'recorded' ELSE 'completed' END,
       now() - make_interval(secs => $6 * random()),
       'agent-' || (g % $4), '历史工单 ' || g, '{"caller_name": "张三"}'::jsonb, 'agent-' || (g % $4),
       '139' || lpad((g % 100000000)::text, 8, '0'), 'C' || (g % 3000000), 'addr-' || (g % 5000000),
       'A' || (g % 500), 'M' || (g % 4000000), NULL, NOT $5,
       CASE WHEN $5 THEN NULL ELSE 'agent-' || (g % $4) END,
       CASE WHEN $5 THEN NULL ELSE now() - make_interval(secs => $6 * random()) END
FROM generate_series($2::bigint, $3::bigint) AS g
"""


async def fill(stack: Stack, scale) -> tuple[float, int]:
    conn = await stack.connect(stack.db["intake"])
    t0 = time.time()
    try:
        chunk = 1_000_000
        for label, total, is_open, secs in (
            ("H", scale.queue_history, False, 2 * 365 * 86400),
            ("O", scale.queue_open, True, 3 * 86400),
        ):
            for start in range(0, total, chunk):
                await conn.execute(
                    FILL,
                    f"BENCH{label}{stack.run_id}-",
                    start,
                    min(total, start + chunk) - 1,
                    scale.queue_agents,
                    is_open,
                    float(secs),
                    timeout=3600,
                )
        await conn.execute("ANALYZE tickets", timeout=3600)
        rows = await conn.fetchval("SELECT count(*) FROM tickets")
    finally:
        await conn.close()
    return time.time() - t0, rows


async def measure(
    stack: Stack, name: str, urls: list[str], headers_list: list[dict], n: int
) -> dict:
    return await run_loadgen_async(
        {
            "mode": "closed",
            "concurrency": 4,
            "requests": n,
            "method": "GET",
            "urls": urls,
            "headers_list": headers_list,
            "body_kind": "none",
            "timeout": 30,
        },
        stack.out_dir,
        f"queue-{name}",
        timeout=600,
    )


async def run(stack: Stack, scale, figures: dict) -> list[Result]:
    seconds, rows = await fill(stack, scale)
    results = [
        Result(
            "queues",
            "intake tickets loaded",
            rows,
            "rows",
            note=f"{scale.queue_history} history + {scale.queue_open} open in {seconds:.0f}s",
        )
    ]
    n = scale.queue_requests
    rng = random.Random(11)
    agents = [f"agent-{rng.randrange(scale.queue_agents)}" for _ in range(n)]
    sup = bearer(Role.SUPERVISOR, subject="sup-1", unit_id="unit-bench")
    views = {
        "agent: GET /tickets?open=true": (
            [f"{stack.url('intake')}/tickets?open=true"] * n,
            [bearer(Role.AGENT, subject=a) for a in agents],
        ),
        "agent: GET /tickets (newest 200)": (
            [f"{stack.url('intake')}/tickets"] * n,
            [bearer(Role.AGENT, subject=a) for a in agents],
        ),
        "supervisor: GET /tickets?owner=&open=true": (
            [f"{stack.url('intake')}/tickets?open=true&owner={a}" for a in agents],
            [sup],
        ),
        "supervisor: GET /work-orders?status=created": (
            [f"{stack.url('dispatch')}/work-orders?status=created&limit=50"] * n,
            [sup],
        ),
        "supervisor: GET /work-orders (board)": (
            [f"{stack.url('dispatch')}/work-orders?limit=50"] * n,
            [sup],
        ),
        "supervisor: GET /cases": ([f"{stack.url('casework')}/cases"] * n, [sup]),
    }
    async with httpx.AsyncClient(timeout=60) as client:
        for name, (urls, headers_list) in views.items():
            try:
                await http_ok(client, "GET", urls[0], headers=headers_list[0])
            except (NotAvailable, RuntimeError) as error:
                results.append(
                    Result(
                        "queues",
                        f"{name} p95",
                        None,
                        "ms",
                        "<= 200",
                        note=f"not available: {error}",
                    )
                )
                continue
            report = await measure(
                stack, name.split(":")[0] + str(len(results)), urls, headers_list, n
            )
            ok = sum(v for k, v in report["statuses"].items() if k.startswith("2"))
            results.append(
                Result(
                    "queues",
                    f"{name} p95",
                    pct(report["latencies_ms"], 95),
                    "ms",
                    "<= 200",
                    note=f"p50 {pct(report['latencies_ms'], 50):.1f} ms; {ok}/{n} 2xx",
                )
            )
    return results


__all__ = ["NotAvailable", "run"]
