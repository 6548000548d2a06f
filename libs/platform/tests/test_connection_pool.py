"""The services' database pool keeps the connections it opens: a burst of concurrent work, then
another, runs on the same PostgreSQL backends. With an overflow, the connections beyond the
pool's size were closed as they came back, and each burst opened new backends, every statement
then parsed and planned anew on them."""

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from brightline.platform.db import create_engine, database_url, ensure_database

pytestmark = pytest.mark.integration


async def test_bursts_of_work_reuse_the_backends_the_pool_opened(postgres_server, db_name):
    name = db_name("pool")
    await ensure_database(postgres_server, name)
    engine = create_engine(database_url(postgres_server, name), pool_size=6)
    started = asyncio.Event()

    async def burst() -> set[int]:
        """Eight units of work at once, each holding its connection until six are held: the
        last two wait for one of those (an overflow would have opened two more)."""
        held: set[int] = set()

        async def one() -> None:
            async with engine.connect() as conn:
                held.add(await conn.scalar(sa.text("SELECT pg_backend_pid()")))
                if len(held) >= 6:
                    started.set()
                await started.wait()

        started.clear()
        await asyncio.gather(*(one() for _ in range(8)))
        return held

    try:
        first = await burst()
        second = await burst()
        assert len(first) == 6
        assert second == first
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedin() == 6
    finally:
        await engine.dispose()


async def test_a_light_load_keeps_to_the_backends_it_used_last(postgres_server, db_name):
    """After a burst opened the whole pool, work one at a time runs on one backend, the one
    returned last (LIFO), not on each of the pool's in turn (FIFO): a few backends stay warm
    (their caches and the CPU's) at a partial load. Measured on intake's POST (edge_cost.py's
    probe, four requests at once after a burst of sixteen), four pairs: PostgreSQL's CPU per
    request 327-527 µs (mean 406) against 440-697 (mean 531), lower in three."""
    name = db_name("pool_lifo")
    await ensure_database(postgres_server, name)
    engine = create_engine(database_url(postgres_server, name), pool_size=4)
    opened = asyncio.Barrier(4)

    async def held_with_the_others() -> None:
        async with engine.connect() as conn:
            await conn.scalar(sa.text("SELECT 1"))
            await opened.wait()

    try:
        await asyncio.gather(*(held_with_the_others() for _ in range(4)))
        pids = set()
        for _ in range(8):
            async with engine.connect() as conn:
                pids.add(await conn.scalar(sa.text("SELECT pg_backend_pid()")))
        assert len(pids) == 1
    finally:
        await engine.dispose()
