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
