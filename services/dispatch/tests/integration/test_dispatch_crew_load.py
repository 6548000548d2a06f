"""A crew's open-order load lives on its row (crews.open_orders), kept by statement triggers on
work_orders (migration 0016): assignment reads it on every new repair instead of counting the
crew's orders, which grew with a storm's backlog. Whatever writes the orders (a batch's
multi-row insert, a crew's step, a reassignment, a retention delete), the kept figure is the
count, for every status the domain knows."""

from __future__ import annotations

import asyncio
from typing import get_args

import pytest
import sqlalchemy as sa
from alembic import command

from brightline.dispatch.adapters.repository import CrewRepository
from brightline.dispatch.domain.model import ACTIVE_FOR_CREW, WorkOrderStatus
from brightline.dispatch.main import SERVICE_DIR
from brightline.platform.db import session_factory
from brightline.platform.migrations import alembic_config
from brightline.platform.testing import counted_database, statements_sent

pytestmark = pytest.mark.integration

CREWS = ("crew-a", "crew-b", "crew-c")
STATUSES: tuple[str, ...] = get_args(WorkOrderStatus)


@pytest.fixture
async def engine(postgres_server, db_name):
    async with counted_database(postgres_server, db_name("dispatch"), SERVICE_DIR) as engine:
        async with engine.begin() as conn:
            for crew in CREWS:
                await conn.execute(
                    sa.text("INSERT INTO crews (crew_id, unit_id, name) VALUES (:c, 'u', :c)"),
                    {"c": crew},
                )
        yield engine


async def kept_and_counted(conn) -> tuple[dict[str, int], dict[str, int]]:
    kept = dict((await conn.execute(sa.text("SELECT crew_id, open_orders FROM crews"))).all())
    counted = dict.fromkeys(CREWS, 0) | dict(
        (
            await conn.execute(
                sa.text(
                    "SELECT crew_id, count(*) FROM work_orders "
                    "WHERE crew_id IS NOT NULL AND status = ANY(:active) GROUP BY crew_id"
                ),
                {"active": list(ACTIVE_FOR_CREW)},
            )
        ).all()
    )
    return kept, counted


async def insert(conn, rows: list[tuple[str, str | None, str]]) -> None:
    """Orders (id, crew, status) in one multi-row statement, as a batch's commit writes them."""
    await conn.execute(
        sa.text(
            "INSERT INTO work_orders (id, ticket_id, unit_id, area_class, status, created_at, "
            "crew_id) SELECT r.id, 't-' || r.id, 'u', 'urban', r.status, now(), r.crew "
            "FROM unnest(CAST(:ids AS text[]), CAST(:crews AS text[]), "
            "CAST(:statuses AS text[])) AS r(id, crew, status)"
        ),
        {
            "ids": [r[0] for r in rows],
            "crews": [r[1] for r in rows],
            "statuses": [r[2] for r in rows],
        },
    )


async def test_the_kept_load_is_the_count_of_every_status(engine):
    """An order of each status the domain knows, on each crew: the kept load counts exactly
    those the domain calls active (the migration's statuses and ACTIVE_FOR_CREW are one rule)."""
    async with engine.begin() as conn:
        await insert(
            conn,
            [(f"{crew}-{s}", crew, s) for crew in CREWS for s in STATUSES]
            + [("no-crew", None, "created")],
        )
        kept, counted = await kept_and_counted(conn)
    assert kept == counted == dict.fromkeys(CREWS, len(ACTIVE_FOR_CREW))


async def test_the_kept_load_follows_steps_reassignments_and_deletes(engine):
    async with engine.begin() as conn:
        await insert(conn, [(f"o{n}", CREWS[n % 2], "assigned") for n in range(6)])
    steps = [
        # a crew's steps inside the active statuses touch no crew's figure
        "UPDATE work_orders SET status = 'accepted' WHERE id IN ('o0', 'o1')",
        "UPDATE work_orders SET status = 'en_route' WHERE id = 'o0'",
        # reassignment: one crew's loss, another's gain, in one statement
        "UPDATE work_orders SET crew_id = 'crew-c' WHERE id IN ('o2', 'o3')",
        # finished and cancelled orders leave the load
        "UPDATE work_orders SET status = 'returned' WHERE id = 'o0'",
        "UPDATE work_orders SET status = 'cancelled' WHERE id = 'o4'",
        # an order taken back to nobody, then given again
        "UPDATE work_orders SET status = 'created', crew_id = NULL WHERE id = 'o5'",
        "UPDATE work_orders SET status = 'assigned', crew_id = 'crew-a' WHERE id = 'o5'",
        # a retention delete of finished and open orders alike
        "DELETE FROM work_orders WHERE id IN ('o0', 'o1')",
    ]
    for step in steps:
        async with engine.begin() as conn:
            await conn.execute(sa.text(step))
            kept, counted = await kept_and_counted(conn)
        assert kept == counted, step
    assert counted == {"crew-a": 1, "crew-b": 0, "crew-c": 2}


async def test_assignment_reads_the_load_without_reading_the_orders(engine):
    """The crews' read on every new repair names no work order: its cost does not grow with the
    orders the crews carry."""
    async with engine.begin() as conn:
        await insert(conn, [(f"o{n}", CREWS[n % 3], "assigned") for n in range(300)])
    with statements_sent(engine) as sent:
        async with session_factory(engine)() as session, session.begin():
            states = await CrewRepository(session).states("u")
    assert {c.crew_id: c.open_orders for c in states} == dict.fromkeys(CREWS, 100)
    assert len(sent) == 1
    assert "work_orders" not in sent[0]


async def test_the_migration_counts_the_orders_already_open(engine):
    """Orders written before the load was kept: the migration counts them onto their crews."""
    config = alembic_config(SERVICE_DIR, engine.url.render_as_string(hide_password=False))
    await asyncio.to_thread(command.downgrade, config, "0015")
    async with engine.begin() as conn:
        await insert(
            conn, [(f"o{n}", CREWS[n % 2], STATUSES[n % len(STATUSES)]) for n in range(40)]
        )
    await asyncio.to_thread(command.upgrade, config, "head")
    async with engine.begin() as conn:
        kept, counted = await kept_and_counted(conn)
    assert kept == counted
    assert sum(counted.values()) == 40 * len(ACTIVE_FOR_CREW) // len(STATUSES)
