"""Scenario 4: SLA timers. 1,000,000 open deadlines, breach detection lag as they come due.

The rows are COPYed straight into the SLA monitor's `deadlines` table (its durable timers,
migration 0002: state, due_at, next_fire_at and the limit snapshot), already warned, so the next
point to fire is the breach at due_at. Due times are spread evenly over the next
`timers_spread_seconds` (an hour in the full run: ~280 breaches/s come due against a 1M-row
table). The running SLA monitor's scheduler finds them (SELECT ... FOR UPDATE SKIP LOCKED on
next_fire_at), writes the breach and its event to the outbox; the relay publishes.

Breach lag = the outbox row's published_at (the event is on the sla.deadlines topic) - due_at,
for the deadlines due inside an observation window that starts after the COPY has finished;
deadlines of the window still unbreached at the end count with their lag so far (a lower bound).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from common import NotAvailable, Result, pct
from stack import Stack

BREACHED = "brightline.sla.deadline.breached.v1"
COLUMNS = (
    "id",
    "limit_key",
    "policy",
    "subject_type",
    "subject_id",
    "ticket_id",
    "state",
    "opened_at",
    "warn_at",
    "due_at",
    "limit_def",
    "unit_id",
    "ticket_type",
    "warned_at",
    "next_fire_at",
)
LIMIT = json.dumps(
    {
        "key": "repair.arrival.urban",
        "amount": 45,
        "unit": "minutes",
        "source": "bench",
        "warn_at": 0.8,
        "pausable": False,
        "escalation": [],
    }
)


async def run(stack: Stack, scale, figures: dict) -> list[Result]:
    conn = await stack.connect(stack.db["sla_monitor"])
    try:
        have = {
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'deadlines'"
            )
        }
        if not {"next_fire_at", "limit_def", "warned_at"} <= have:
            raise NotAvailable("the SLA monitor's deadlines table has no durable timer columns")
        total = scale.timers_total
        lead = 15 if scale.quick else 45
        base = datetime.now(UTC) + timedelta(seconds=lead)
        step = scale.timers_spread_seconds / total
        run = stack.run_id
        t_copy = time.time()
        chunk = 100_000
        for start in range(0, total, chunk):
            records = []
            for i in range(start, min(total, start + chunk)):
                due = base + timedelta(seconds=i * step)
                opened = due - timedelta(minutes=45)
                warn = opened + timedelta(minutes=36)
                records.append(
                    (
                        str(uuid.uuid4()),
                        "repair.arrival.urban",
                        "seed@bench",
                        "work_order",
                        f"{run}-wo-{i}",
                        f"{run}-t-{i}",
                        "warned",
                        opened,
                        warn,
                        due,
                        LIMIT,
                        "unit-bench",
                        "repair",
                        warn,
                        due,
                    )
                )
            await conn.copy_records_to_table("deadlines", records=records, columns=COLUMNS)
        copy_seconds = time.time() - t_copy
        window_start = datetime.now(UTC) + timedelta(seconds=2)
        window_end = window_start + timedelta(seconds=scale.timers_observe_seconds)
        await asyncio.sleep((window_end - datetime.now(UTC)).total_seconds() + 5)
        # give the scheduler up to 30 s more to catch up before the measurement is cut
        for _ in range(30):
            left = await conn.fetchval(
                "SELECT count(*) FROM deadlines WHERE subject_type = 'work_order' AND policy = 'seed@bench' "
                "AND due_at BETWEEN $1 AND $2 AND breached_at IS NULL",
                window_start,
                window_end,
            )
            if left == 0:
                break
            await asyncio.sleep(1)
        cut = datetime.now(UTC)
        rows = await conn.fetch(
            "SELECT (data->>'due_at')::timestamptz AS due, created_at, published_at FROM outbox "
            "WHERE event_type = $1 AND (data->>'due_at')::timestamptz BETWEEN $2 AND $3",
            BREACHED,
            window_start,
            window_end,
        )
        in_window = await conn.fetchval(
            "SELECT count(*) FROM deadlines WHERE policy = 'seed@bench' AND due_at BETWEEN $1 AND $2",
            window_start,
            window_end,
        )
        before = await conn.fetchval(
            "SELECT count(*) FROM deadlines WHERE policy = 'seed@bench' AND due_at < $1",
            window_start,
        )
        # stop the rest from firing during later work
        await conn.execute(
            "UPDATE deadlines SET next_fire_at = NULL WHERE policy = 'seed@bench' "
            "AND breached_at IS NULL AND due_at > $1",
            cut + timedelta(seconds=5),
        )
    finally:
        await conn.close()
    lags = [((r["published_at"] or cut) - r["due"]).total_seconds() * 1000 for r in rows]
    detect = [(r["created_at"] - r["due"]).total_seconds() * 1000 for r in rows]
    missing = max(0, in_window - len(rows))
    # unbreached ones: lag at least (cut - due); use the window end as their due (smallest bound)
    lags += [(cut - window_end).total_seconds() * 1000] * missing
    rate = in_window / scale.timers_observe_seconds
    return [
        Result(
            "timers",
            "open deadlines loaded (COPY)",
            total,
            "rows",
            note=f"COPY took {copy_seconds:.0f}s ({total / copy_seconds:.0f} rows/s); {before} came due "
            "during the COPY and are left out",
        ),
        Result(
            "timers",
            "breaches due in the window",
            in_window,
            "deadlines",
            note=f"{scale.timers_observe_seconds:.0f}s window, {rate:.0f}/s coming due; {missing} not breached"
            " by the cut",
        ),
        Result("timers", "breach detection lag p50 (scheduler commit)", pct(detect, 50), "ms"),
        Result(
            "timers",
            "breach lag p99 (event published)",
            pct(lags, 99) / 1000 if lags else None,
            "s",
            "<= 1",
        ),
        Result(
            "timers", "breach lag max (event published)", max(lags) / 1000 if lags else None, "s"
        ),
    ]


__all__ = ["NotAvailable", "run"]
