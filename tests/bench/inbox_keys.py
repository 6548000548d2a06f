"""What an inbox row's key costs PostgreSQL's write-ahead log, by the kind of event id (issue 21).

    .venv/bin/python tests/bench/inbox_keys.py [--rows 400000] [--inserts 4000]

A consumer's inbox is keyed by (consumer, event id), and every event any service handles adds
one row: eight or nine a repair ticket across the services, kept for the inbox's retention
window (days), so the key's B-tree holds millions of entries in a provincial centre. After a
checkpoint, the first change to each page of it writes the whole page into the WAL (a full-page
image, 8 KiB). A random id (uuid4) puts each insert on a page of its own somewhere in the tree,
so nearly every insert pays a full page; an id that starts with its time (uuid7, what events
carry since 2026-12-05) puts them next to each other at the tree's right end.

For each kind, in one run on the bench's PostgreSQL (`.local/bench-pg`, started if needed): a
table shaped like the inbox filled with `--rows` rows of seven consumers with ids of that kind,
a CHECKPOINT, then `--inserts` new rows in transactions of 20 (a consumer's batch); prints the
WAL bytes, full-page images and the backend's time per insert, and the ratio between the kinds.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg
import uuid_utils

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = [f"svc-{n}" for n in range(7)]
KINDS: dict[str, Callable[[], str]] = {
    "uuid4 (random)": lambda: str(uuid.uuid4()),
    "uuid7 (time first)": lambda: str(uuid_utils.uuid7()),
}


async def wal(conn: asyncpg.Connection) -> tuple[int, int]:
    """The WAL's insert position and the full-page images written so far (this backend's
    statistics flushed first: they reach pg_stat_wal at most once a second otherwise)."""
    await conn.execute("SELECT pg_stat_force_next_flush()")
    await conn.execute("SELECT 1")
    position = await conn.fetchval("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
    fpi = await conn.fetchval("SELECT wal_fpi FROM pg_stat_wal")
    return int(position), int(fpi)


async def measure(conn: asyncpg.Connection, kind: str, rows: int, inserts: int) -> dict:
    make = KINDS[kind]
    await conn.execute("DROP TABLE IF EXISTS inbox_keys_probe")
    await conn.execute(
        "CREATE TABLE inbox_keys_probe (consumer varchar(100), event_id varchar(64),"
        " event_type varchar(200) NOT NULL, processed_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (consumer, event_id))"
    )
    filled = [
        (CONSUMERS[i % 7], make(), "brightline.intake.ticket.recorded.v1") for i in range(rows)
    ]
    await conn.copy_records_to_table(
        "inbox_keys_probe", records=filled, columns=["consumer", "event_id", "event_type"]
    )
    await conn.execute("VACUUM ANALYZE inbox_keys_probe")
    await conn.execute("CHECKPOINT")
    bytes0, fpi0 = await wal(conn)
    started = time.perf_counter()
    insert = await conn.prepare(
        "INSERT INTO inbox_keys_probe (consumer, event_id, event_type)"
        " SELECT $1, unnest($2::varchar[]), 'brightline.intake.ticket.recorded.v1'"
    )
    for batch in range(inserts // 20):
        consumer = CONSUMERS[batch % 7]
        async with conn.transaction():
            await insert.fetch(consumer, [make() for _ in range(20)])
    elapsed = time.perf_counter() - started
    bytes1, fpi1 = await wal(conn)
    size = await conn.fetchval("SELECT pg_relation_size('inbox_keys_probe_pkey')")
    await conn.execute("DROP TABLE inbox_keys_probe")
    n = inserts // 20 * 20
    return {
        "kind": kind,
        "wal_bytes": (bytes1 - bytes0) / n,
        "fpi": (fpi1 - fpi0) / n,
        "us": elapsed * 1e6 / n,
        "index_mib": size / 2**20,
    }


async def main(rows: int, inserts: int) -> None:
    from brightline.platform.local import LocalPostgres

    postgres = LocalPostgres(ROOT / ".local" / "bench-pg")
    url = postgres.start()
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        results = [await measure(conn, kind, rows, inserts) for kind in KINDS]
    finally:
        await conn.close()
        postgres.stop()
    print(f"{rows} rows in the inbox, then {inserts} inserts in transactions of 20, per insert:")
    print(f"{'event id':22} {'WAL bytes':>10} {'full pages':>11} {'time µs':>9} {'key MiB':>8}")
    for r in results:
        print(
            f"{r['kind']:22} {r['wal_bytes']:10.0f} {r['fpi']:11.3f} {r['us']:9.0f}"
            f" {r['index_mib']:8.1f}"
        )
    random, ordered = results
    print(
        f"time-first ids: {ordered['wal_bytes'] / random['wal_bytes']:.1%} of the WAL bytes,"
        f" {ordered['us'] / random['us']:.0%} of the time"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--inserts", type=int, default=4_000)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.inserts))
