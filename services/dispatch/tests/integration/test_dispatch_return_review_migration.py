"""回单审核 came with migration 0018: every order returned before it passed at its return (the
rule then, its returned event already sent), so the review queue starts empty, and only returns
made after it wait for the duty dispatcher."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from alembic import command

from brightline.dispatch.adapters.repository import WorkOrderRepository
from brightline.dispatch.main import SERVICE_DIR
from brightline.platform.db import session_factory
from brightline.platform.migrations import alembic_config
from brightline.platform.testing import counted_database

pytestmark = pytest.mark.integration


async def test_returns_made_before_reviews_do_not_wait_for_one(postgres_server, db_name):
    async with counted_database(postgres_server, db_name("dispatch"), SERVICE_DIR) as engine:
        config = alembic_config(SERVICE_DIR, engine.url.render_as_string(hide_password=False))
        await asyncio.to_thread(command.downgrade, config, "0017")
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO work_orders (id, ticket_id, unit_id, area_class, status, "
                    "created_at, returned_at, resolution) VALUES "
                    "('old', 't-old', 'u', 'urban', 'returned', now() - interval '2 days', "
                    "now() - interval '1 day', 'repaired'), "
                    "('open', 't-open', 'u', 'urban', 'on_site', now(), NULL, NULL)"
                )
            )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with session_factory(engine)() as session, session.begin():
            orders = WorkOrderRepository(session)
            assert await orders.search(status="awaiting_review") == []
            old, still_open = await orders.get("old"), await orders.get("open")
        assert old is not None and old.reviewed_at == old.returned_at and not old.awaiting_review
        assert still_open is not None and still_open.reviewed_at is None

        # A return made now waits, and is found in the queue.
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "UPDATE work_orders SET status = 'returned', returned_at = now(), "
                    "resolution = 'repaired' WHERE id = 'open'"
                )
            )
        async with session_factory(engine)() as session, session.begin():
            waiting = await WorkOrderRepository(session).search(status="awaiting_review")
        assert [o.id for o in waiting] == ["open"] and waiting[0].awaiting_review
