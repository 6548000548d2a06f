"""What folding an event into the read model costs: one SQL statement per event (the timeline
entries, the ticket view's upsert and the incident links fused), counted by the client-side
counter the benchmark reads (DB_COUNT_ROUND_TRIPS), on the real PostgreSQL; and the fused
statement still folds as the view expects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from brightline.platform.db import (
    ROUND_TRIPS,
    count_round_trips,
    create_engine,
    database_url,
    ensure_database,
    server_url,
    session_factory,
)
from brightline.platform.migrations import upgrade_async
from brightline.records.adapters import repository
from brightline.records.domain.model import Observed, project
from brightline.records.main import SERVICE_DIR

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def observed(n: int, type_: str, subject: str, **data) -> Observed:
    return Observed(f"ev-{n}", type_, "/brightline/test", subject, T0, data)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


# A repair ticket's life as records sees it in the benchmark's sustained scenario, then an
# outage that names it twice (a repeated id) beside another ticket.
LIFE = [
    observed(
        1,
        "brightline.intake.ticket.recorded.v1",
        "t-1",
        ticket_id="t-1",
        ticket_no="202612010001",
        ticket_type="repair",
        recorded_at=at(0),
        first_ask_owner="agent-1",
        call_id="call-1",
        caller_name="钱七",
        phone="+86 138 0013 8000",
        address="南开区建设路1号",
    ),
    observed(
        2,
        "brightline.dispatch.work-order.created.v1",
        "wo-1",
        work_order_id="wo-1",
        ticket_id="t-1",
        unit_id="unit-7",
        created_at=at(2),
    ),
    observed(
        3,
        "brightline.sla.deadline.opened.v1",
        "d-1",
        deadline_id="d-1",
        ticket_id="t-1",
        opened_at=at(2),
    ),
    observed(
        4,
        "brightline.dispatch.outage.restored.v1",
        "inc-1",
        incident_id="inc-1",
        ticket_ids=["t-1", "t-2", "t-1"],
        restored_at=at(40),
    ),
]


@pytest.fixture
async def engine(postgres_server, db_name):
    server = server_url(postgres_server)
    name = db_name("records")
    await ensure_database(server, name)
    url = database_url(server, name)
    await upgrade_async(SERVICE_DIR, url)
    engine = create_engine(url, pool_size=1)
    count_round_trips(engine)
    yield engine
    await engine.dispose()


async def test_one_statement_per_event(engine):
    sessions = session_factory(engine)
    spent = []
    async with sessions() as session, session.begin():
        await session.connection()  # the transaction's BEGIN is the consumer's, not the handler's
        for event in LIFE:
            before = ROUND_TRIPS["total"]
            await repository.apply(session, project(event))
            spent.append(ROUND_TRIPS["total"] - before)
    assert spent == [1, 1, 1, 1]

    async with engine.connect() as conn:
        tickets = {
            r.ticket_id: r
            for r in await conn.execute(
                sa.text(
                    "SELECT ticket_id, ticket_no, ticket_type, status, unit_id, owner, "
                    "phone_norm, address_grams FROM tickets"
                )
            )
        }
        entries = await conn.scalar(sa.text("SELECT count(*) FROM timeline"))
        links = (
            await conn.execute(sa.text("SELECT ticket_id, incident_id FROM ticket_incidents"))
        ).all()
    one = tickets["t-1"]
    assert (one.ticket_no, one.ticket_type, one.owner) == ("202612010001", "repair", "agent-1")
    assert (one.status, one.unit_id, one.phone_norm) == ("restored", "unit-7", "13800138000")
    assert "建设" in one.address_grams  # the grams of the address, from records_grams()
    assert tickets["t-2"].status == "restored"
    assert entries == 4
    assert sorted(links) == [("t-1", "inc-1"), ("t-2", "inc-1")]
