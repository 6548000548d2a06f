"""What the audit sealer costs per row, in its service's process and in PostgreSQL (issue 21).

    .venv/bin/python tests/bench/seal_cost.py [--rows 3000] [DATABASE ...]

Reads the first rows of each database's audit trail in the bench's PostgreSQL
(`.local/bench-pg`, as a `make bench` run left it; default: bench_intake, bench_records,
bench_sla_monitor) and chains them twice each way, in turn: as sealers before v3 did (the
whole row read into the process, its content hashed there as canonical JSON: `row_hash`), as
sealers v3 and v4 did (the 32-byte digest PostgreSQL takes of the row, `CONTENT_DIGEST`), and as
the writer does since v5 (`content_digest` over the row's text, read here from the row: the
digest alone is what the writer pays at insert, printed apart; the sealer itself only chains
the digest queued with the row). Prints
the process's CPU and the wall time per row: wall less CPU is mostly PostgreSQL's share.
Nothing is written.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import sqlalchemy as sa

from brightline.messaging import audit
from brightline.messaging.audit import (
    CONTENT_DIGEST,
    JSON_TEXT,
    V3_LINK,
    V5_LINK,
    audit_trail,
    chain_hash,
    content_digest,
    row_hash,
)
from brightline.platform.db import create_engine
from brightline.platform.local.postgres import LocalPostgres

ROOT = Path(__file__).resolve().parents[2]


async def measure(url: str, databases: list[str], rows: int) -> None:
    for database in databases:
        engine = create_engine(url.replace("/postgres?", f"/{database}?"), pool_size=1)
        try:
            async with engine.connect() as conn:
                for way in ("content (v2)", "digest (v3)", "writer (v5)") * 2:
                    cpu, wall = time.process_time(), time.perf_counter()
                    prev = audit.GENESIS
                    if way.startswith("content"):
                        query = sa.select(audit_trail).order_by(audit_trail.c.seq).limit(rows)
                        read = (await conn.execute(query)).mappings().all()
                        for row in read:
                            prev = row_hash(prev, row)
                    elif way.startswith("writer"):
                        texts = [sa.cast(audit_trail.c[k], sa.Text).label(k) for k in JSON_TEXT]
                        others = [c for c in audit_trail.c if c.key not in JSON_TEXT]
                        query = sa.select(*others, *texts).order_by(audit_trail.c.seq).limit(rows)
                        read = (await conn.execute(query)).mappings().all()
                        hashing = time.process_time()
                        for row in read:
                            digest = bytes.fromhex(content_digest(row))
                            prev = chain_hash(prev, digest, V5_LINK)
                        hashed = (time.process_time() - hashing) / max(1, len(read)) * 1e6
                        print(
                            f"{database:20} {'':13} the writer's digest alone: {hashed:5.1f} µs/row"
                        )
                    else:
                        query = (
                            sa.select(audit_trail.c.seq, CONTENT_DIGEST)
                            .order_by(audit_trail.c.seq)
                            .limit(rows)
                        )
                        digests = (await conn.execute(query)).all()
                        for _, digest in digests:
                            prev = chain_hash(prev, digest, V3_LINK)
                        read = digests
                    n = max(1, len(read))
                    print(
                        f"{database:20} {way:13} {len(read):6} rows"
                        f"  process CPU {(time.process_time() - cpu) / n * 1e6:5.1f} µs/row"
                        f"  wall {(time.perf_counter() - wall) / n * 1e6:5.1f} µs/row"
                    )
        finally:
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("databases", nargs="*")
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()
    databases = args.databases or ["bench_intake", "bench_records", "bench_sla_monitor"]
    postgres = LocalPostgres(ROOT / ".local" / "bench-pg")
    url = postgres.start()
    try:
        asyncio.run(measure(url, databases, args.rows))
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
