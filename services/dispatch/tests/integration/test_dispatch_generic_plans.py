"""The scanner (brightline.dispatch.scheduler) runs every five seconds for as long as dispatch
lives, over a table that keeps every order there ever was. Its statements are prepared once, and
from their sixth run PostgreSQL plans them for any value of their parameters (a generic plan):
a status bound as a parameter kept every partial index of the few orders it wants (assigned past
their acceptance time, waiting for a crew, needing routing, returned and waiting for review) out
of reach, and each round read all
of work_orders three times. Each read is planned here as that generic plan, over a history of
finished orders: none scans the table; and an incident's tickets (its detail view), read from
its own links, not from every link there ever was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from brightline.dispatch.adapters.repository import (
    CrewRepository,
    OutageRepository,
    WorkOrderRepository,
)
from brightline.dispatch.main import SERVICE_DIR
from brightline.platform.db import session_factory
from brightline.platform.testing import counted_database, generic_plan, statements_sent

pytestmark = pytest.mark.integration

HISTORY = 3000  # orders, nearly all returned long ago: the table the scanner must not read


@pytest.fixture
async def engine(postgres_server, db_name):
    async with counted_database(postgres_server, db_name("dispatch"), SERVICE_DIR) as engine:
        yield engine


async def test_the_scanner_and_the_crews_load_read_only_the_orders_they_want(engine):
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                """
                INSERT INTO work_orders (id, ticket_id, unit_id, area_class, status, created_at,
                                         crew_id, is_lead, accept_by, needs_routing,
                                         returned_at, reviewed_at)
                SELECT 'wo-' || n, 'ticket-' || n, 'unit-' || n % 4, 'urban',
                       CASE n % 100 WHEN 0 THEN 'assigned' WHEN 1 THEN 'created'
                                    ELSE 'returned' END,
                       now() - n * interval '1 hour', 'crew-' || n % 24, true,
                       now() - n * interval '1 hour' + interval '5 minutes', n % 100 = 2,
                       now() - n * interval '1 hour' + interval '50 minutes',
                       -- reviewed, but the one in a hundred whose return still waits
                       CASE WHEN n % 100 <> 3 THEN now() - n * interval '1 hour' END
                FROM generate_series(1, :history) AS n
                """
            ),
            {"history": HISTORY},
        )
        await conn.execute(sa.text("ANALYZE work_orders"))
    with statements_sent(engine) as sent:
        async with session_factory(engine)() as session, session.begin():
            orders = WorkOrderRepository(session)
            assert len(await orders.overdue_acceptances(datetime.now(UTC))) == 30
            assert await orders.count_needing_routing() == 0  # flagged, but returned long ago
            assert await orders.unassigned_leads() == []  # no crew on duty in any unit
            waiting, _ = await orders.backlog("awaiting_review")
            assert waiting == 30  # n % 100 == 3: returned, its review still to come
            assert (await orders.backlog("cancel_requested"))[0] == 0
            await CrewRepository(session).states("unit-1")
    assert len(sent) == 6
    async with engine.begin() as conn:
        for sql in sent:
            assert ("Seq Scan", "work_orders") not in await generic_plan(conn, sql), sql


async def test_an_incidents_tickets_are_read_from_its_own_links(engine):
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                """
                INSERT INTO incident_links (ticket_id, incident_id, work_order_id, linked_at)
                SELECT 'ticket-' || n, 'incident-' || n / 10, 'wo-' || n / 10,
                       now() - n * interval '1 minute'
                FROM generate_series(1, :history) AS n
                """
            ),
            {"history": HISTORY},
        )
        await conn.execute(sa.text("ANALYZE incident_links"))
    with statements_sent(engine) as sent:
        async with session_factory(engine)() as session, session.begin():
            linked = await OutageRepository(session).linked_ticket_ids("incident-7")
    assert sorted(linked) == sorted(f"ticket-{n}" for n in range(70, 80))
    async with engine.begin() as conn:
        (sql,) = sent
        assert ("Seq Scan", "incident_links") not in await generic_plan(conn, sql), sql
