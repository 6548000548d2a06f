"""Scenario 6: records' search and timeline over a big history (issue 20, point 4).

The read model (records' `tickets` and `timeline` tables, migration 0002) gets `history` closed
tickets (two years back) and `open` open ones (last three days), generated server side with
INSERT ... SELECT generate_series (the app is bypassed; every index is maintained, the gram
arrays computed by the same SQL function the projection uses), plus six timeline entries for
every open ticket and for one historical ticket in twenty; then ANALYZE. Sizes: --records-history
and --records-open (issue: 10,000,000 + 500,000; --quick: 200,000 + 10,000).

Then p95 over `requests` requests each (4 concurrent, load generator in its own process) as a
supervisor: search by 工单号 (exact), by phone (written "+86 139-..." so normalisation runs), by
an address substring (street + house number, Chinese), and the timeline of one ticket.
Targets from the issue: 20 / 20 / 200 / 50 ms. Printed, never asserted.
"""

from __future__ import annotations

import random
import time
import urllib.parse

import httpx
from common import NotAvailable, Result, http_ok, pct, run_loadgen_async
from stack import Stack

from brightline.platform.auth import Role
from brightline.platform.testing import bearer

DISTRICTS = ["和平区", "河西区", "南开区", "河东区"]
STREETS = ["幸福路", "光明路", "解放路", "人民路", "建设路"]
SURNAMES = ["张", "王", "李", "赵", "刘", "陈"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇"]
HOUSES = 9973  # house numbers 0..9972 per street


def _arr(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


# $1 prefix of ids and numbers, $2..$3 the range, $4 open?, $5 spread (s) back from now.
FILL_TICKETS = f"""
INSERT INTO tickets (ticket_id, ticket_no, ticket_type, recorded_at, first_ask_owner, owner,
                     owner_at, owner_event, status, status_at, status_event, unit_id, unit_at,
                     unit_event, call_id, caller_name, phone, phone_norm, address, area_code,
                     anonymous, name_grams, address_grams, has_breached)
SELECT $1 || g, $1 || lpad(g::text, 10, '0'),
       (ARRAY['repair','consultation','service_request','complaint'])[1 + g % 4], at,
       'agent-' || (g % 2000), 'agent-' || (g % 2000), at, 'bench', st, at, 'bench',
       'unit-' || (g % 300), at, 'bench', 'call-' || $1 || g, nm, ph, ph, ad, 'A' || (g % 500),
       false, records_grams(nm), records_grams(ad), g % 50 = 0
FROM (
  SELECT g, now() - make_interval(secs => $5 * random()) AS at,
         CASE WHEN $4 THEN 'dispatched' ELSE 'called_back' END AS st,
         '139' || lpad((g % 100000000)::text, 8, '0') AS ph,
         ({_arr(SURNAMES)})[1 + g % 6] || ({_arr(GIVEN)})[1 + (g / 6) % 8]
           || ({_arr(GIVEN)})[1 + (g / 48) % 8] AS nm,
         ({_arr(DISTRICTS)})[1 + g % 4] || ({_arr(STREETS)})[1 + (g / 4) % 5]
           || ((g / 20) % {HOUSES})::text || '号' || (g % 30)::text || '栋' AS ad
  FROM generate_series($2::bigint, $3::bigint) AS g
) s
"""

# Six entries per ticket of the range whose g % $4 = 0, spread over its first hours.
FILL_TIMELINE = """
INSERT INTO timeline (entry_id, event_type, kind, occurred_at, aggregate_id, source, ticket_id,
                      call_id, data)
SELECT $1 || g || ':' || k, 'brightline.bench.v1',
       (ARRAY['call.ringing','ticket.recorded','work_order.created','work_order.on_site',
              'work_order.returned','callback.outcome'])[k],
       t.recorded_at + make_interval(mins => 10 * k), $1 || g, '/bench',
       CASE WHEN k = 1 THEN NULL ELSE $1 || g END,
       CASE WHEN k = 1 THEN 'call-' || $1 || g END,
       jsonb_build_object('ticket_id', $1 || g, 'step', k)
FROM generate_series($2::bigint, $3::bigint) AS g
JOIN tickets t ON t.ticket_id = $1 || g
CROSS JOIN generate_series(1, 6) AS k
WHERE g % $4 = 0
"""


async def fill(stack: Stack, history: int, open_: int) -> tuple[float, int, int]:
    conn = await stack.connect(stack.db["records"])
    t0 = time.time()
    try:
        chunk = 500_000
        for label, total, is_open, secs, every in (
            ("H", history, False, 2 * 365 * 86400, 20),
            ("O", open_, True, 3 * 86400, 1),
        ):
            prefix = f"B{label}{stack.run_id}-"
            for start in range(0, total, chunk):
                end = min(total, start + chunk) - 1
                await conn.execute(
                    FILL_TICKETS, prefix, start, end, is_open, float(secs), timeout=7200
                )
                await conn.execute(FILL_TIMELINE, prefix, start, end, every, timeout=7200)
        await conn.execute("ANALYZE tickets", timeout=3600)
        await conn.execute("ANALYZE timeline", timeout=3600)
        tickets = await conn.fetchval("SELECT count(*) FROM tickets")
        entries = await conn.fetchval("SELECT count(*) FROM timeline")
    finally:
        await conn.close()
    return time.time() - t0, tickets, entries


async def measure(stack: Stack, name: str, urls: list[str], headers: dict, n: int) -> dict:
    return await run_loadgen_async(
        {
            "mode": "closed",
            "concurrency": 4,
            "requests": n,
            "method": "GET",
            "urls": urls,
            "headers_list": [headers],
            "body_kind": "none",
            "timeout": 30,
        },
        stack.out_dir,
        f"records-{name}",
        timeout=900,
    )


async def run(stack: Stack, scale, figures: dict) -> list[Result]:
    if "records" not in stack.procs:
        raise NotAvailable("the records service is not part of this checkout")
    history = scale.extra.get("records_history") or (200_000 if scale.quick else 10_000_000)
    open_ = scale.extra.get("records_open") or (10_000 if scale.quick else 500_000)
    seconds, tickets, entries = await fill(stack, history, open_)
    results = [
        Result(
            "records",
            "read model loaded",
            tickets,
            "tickets",
            note=f"{history:,} history + {open_:,} open, {entries:,} timeline entries, "
            f"in {seconds:.0f}s",
        )
    ]
    n = scale.queue_requests * 2
    rng = random.Random(20)
    base = stack.url("records")
    sup = bearer(Role.SUPERVISOR, subject="sup-bench")

    def pick() -> tuple[str, int]:
        if rng.random() < 0.5:
            return f"BO{stack.run_id}-", rng.randrange(open_)
        return f"BH{stack.run_id}-", rng.randrange(history)

    def ticket_no() -> str:
        prefix, g = pick()
        return f"{prefix}{g:010d}"

    def phone() -> str:
        g = rng.randrange(history)
        digits = f"{g % 100_000_000:08d}"
        return f"+86 139-{digits[:4]}-{digits[4:]}"

    def address() -> str:
        g = rng.randrange(history)
        return f"{STREETS[(g // 4) % 5]}{(g // 20) % HOUSES}号"

    def timeline() -> str:
        prefix, g = f"BO{stack.run_id}-", rng.randrange(open_)
        return f"{base}/tickets/{prefix}{g}/timeline"

    q = urllib.parse.quote
    views = {
        "search by 工单号": ([f"{base}/tickets?ticket_no={q(ticket_no())}" for _ in range(n)], 20),
        "search by phone (+86 139-xxxx-xxxx)": (
            [f"{base}/tickets?phone={q(phone())}" for _ in range(n)],
            20,
        ),
        "search by address substring": (
            [f"{base}/tickets?address={q(address())}&limit=50" for _ in range(n)],
            200,
        ),
        "timeline of one ticket": ([timeline() for _ in range(n)], 50),
    }
    async with httpx.AsyncClient(timeout=60) as client:
        for name, (urls, target) in views.items():
            try:
                await http_ok(client, "GET", urls[0], headers=sup)
            except (NotAvailable, RuntimeError) as error:
                results.append(
                    Result("records", f"{name} p95", None, "ms", f"<= {target}", note=str(error))
                )
                continue
            report = await measure(stack, name.split()[-1], urls, sup, n)
            ok = sum(v for k, v in report["statuses"].items() if k.startswith("2"))
            results.append(
                Result(
                    "records",
                    f"{name} p95",
                    pct(report["latencies_ms"], 95),
                    "ms",
                    f"<= {target}",
                    note=f"p50 {pct(report['latencies_ms'], 50):.1f} ms; {ok}/{n} 2xx",
                )
            )
    return results


__all__ = ["NotAvailable", "run"]
