"""Every service's outbox, migrated to head, carries the indexes something reads and no other
(issue 21): the relay's backlog (`id` where unpublished), the primary key it marks rows by and
retention's `published_at`. Its event ids had a unique index nothing read, which cost each event
written an insert at a random place of a B-tree; a downgrade puts it back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from brightline.platform.db import create_engine, database_url, ensure_database, server_url
from brightline.platform.migrations import alembic_config, upgrade_async

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).resolve().parents[2] / "services"
NAMES = ("intake", "dispatch", "sla_monitor", "casework", "callback", "records", "console")
READ_BY_SOMETHING = {"outbox_pkey", "ix_outbox_unpublished", "ix_outbox_published_at"}


async def outbox_indexes(url: str) -> set[str]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            names = await conn.scalars(
                sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'outbox'")
            )
            return set(names)
    finally:
        await engine.dispose()


async def test_every_services_outbox_keeps_only_the_indexes_something_reads(
    postgres_server, db_name
):
    server = server_url(postgres_server)
    urls = {}
    for name in NAMES:
        database = db_name(f"outbox_{name}")
        await ensure_database(server, database)
        urls[name] = database_url(server, database)
    for name in NAMES:  # one after another: alembic's context is one per process
        await upgrade_async(SERVICES / name, urls[name])
    found = {name: await outbox_indexes(urls[name]) for name in NAMES}
    assert found == dict.fromkeys(NAMES, READ_BY_SOMETHING)
    # Down to before intake's migration that dropped it (0015) and up again: the unique index
    # comes back, and goes.
    config = alembic_config(SERVICES / "intake", urls["intake"])
    await asyncio.to_thread(command.downgrade, config, "0014")
    assert await outbox_indexes(urls["intake"]) == READ_BY_SOMETHING | {"outbox_event_id_key"}
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await outbox_indexes(urls["intake"]) == READ_BY_SOMETHING
