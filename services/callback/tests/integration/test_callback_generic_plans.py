"""An agent's "next callback", the queue's page and the task an agent already holds are read
on every click, from a table that keeps every callback task there ever was. Their statements are
prepared once, and from their sixth run PostgreSQL plans them for any value of their parameters
(a generic plan): with "open" bound as a parameter, the partial index of open tasks
(ix_callback_tasks_open_due) was out of reach and each click read every task. Each read is
planned here as that generic plan, over a history of closed tasks: none scans the table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from brightline.callback.adapters.repository import TaskRepository
from brightline.callback.main import SERVICE_DIR
from brightline.platform.db import session_factory
from brightline.platform.testing import counted_database, generic_plan, statements_sent

pytestmark = pytest.mark.integration

HISTORY = 3000  # tasks, nearly all closed long ago: the table a click must not read


@pytest.fixture
async def engine(postgres_server, db_name):
    async with counted_database(postgres_server, db_name("callback"), SERVICE_DIR) as engine:
        yield engine


async def test_the_queue_reads_only_the_open_tasks(engine):
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                """
                INSERT INTO callback_tasks (id, ticket_id, ticket_type, origin, unit_id,
                    finish_ref, finished_at, finished_day, due_at, next_attempt_at, callable,
                    status, attempts)
                SELECT 'task-' || n, 'ticket-' || n, 'repair', 'repair', 'unit-' || n % 4,
                       'finish-' || n, now() - n * interval '1 hour',
                       (now() - n * interval '1 hour')::date, now() - n * interval '1 hour',
                       now() - n * interval '1 hour', true,
                       CASE WHEN n % 100 = 0 THEN 'open' ELSE 'closed' END, 1
                FROM generate_series(1, :history) AS n
                """
            ),
            {"history": HISTORY},
        )
        await conn.execute(sa.text("ANALYZE callback_tasks"))
    now = datetime.now(UTC)
    with statements_sent(engine) as sent:
        async with session_factory(engine)() as session, session.begin():
            tasks = TaskRepository(session)
            page, total = await tasks.waiting(None, None, limit=20, offset=0)
            assert (len(page), total) == (20, 30)
            assert await tasks.held_by("agent-1", now) is None
            assert await tasks.claim_next(now) is None  # no contact known: none callable
    assert len(sent) == 3
    async with engine.begin() as conn:
        for sql in sent:
            assert ("Seq Scan", "callback_tasks") not in await generic_plan(conn, sql), sql
