"""What folding events into the read model costs: no SQL statement of its own for a whole batch
(the timeline entries, the ticket view's upsert and the incident links ride on the commit's last
statement, with the audit rows and the inbox claim),
counted by the client-side counter the benchmark reads (DB_COUNT_ROUND_TRIPS), on the real
PostgreSQL; the fused statement folds as the events one by one would, and each event keeps its
own audit row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from brightline.contracts import Event
from brightline.messaging import EventConsumer, UnitOfWork
from brightline.messaging.audit import AS_IT_CAME, AuditTrail, audit_trail
from brightline.messaging.testing import count_compilations
from brightline.platform.db import (
    ROUND_TRIPS,
    session_factory,
)
from brightline.platform.testing import counted_database
from brightline.records import handlers
from brightline.records.adapters import repository
from brightline.records.consumers import observed as observed_of
from brightline.records.domain import commands
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
    async with counted_database(postgres_server, db_name("records"), SERVICE_DIR) as engine:
        yield engine


async def test_one_statement_per_batch_and_an_audit_row_per_event(engine):
    sessions = session_factory(engine)
    sessions.configure(info={"audit": AuditTrail("records")})
    async with UnitOfWork(sessions, source="/brightline/records") as uow:
        await uow.session.connection()  # the transaction's BEGIN is the consumer's
        before = ROUND_TRIPS["total"]
        for event in LIFE:
            uow.causation = Event(event.type, event.source, event.subject, event.data, event.id)
            await handlers.record_event(commands.RecordEvent(event), uow)
        assert ROUND_TRIPS["total"] == before  # gathered, not written yet
        await uow.commit()
    # the audit rows with the fold riding on them, COMMIT
    assert ROUND_TRIPS["total"] - before == 2

    async with engine.connect() as conn:
        audited = (
            await conn.execute(
                sa.select(audit_trail.c.action, audit_trail.c.changes).order_by(audit_trail.c.seq)
            )
        ).all()
    assert [a for a, _ in audited] == [e.type for e in LIFE]
    for (_, changes), event in zip(audited, LIFE, strict=True):
        [change] = changes
        assert change["table"] == "timeline" and change["op"] == "insert"
        assert [r["entry_id"] for r in change["after"]] == [event.id]
        # the entry's data is the event's as it came: named, not written out again
        assert [r["data"] for r in change["after"]] == [AS_IT_CAME]
    assert "钱七" not in str(audited) and "13800138000" not in str(audited)

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


async def test_the_timelines_lookups_index_only_the_entries_they_can_find(engine):
    """By call, by incident, by aggregate (for entries that name no ticket): an entry without a
    call or an incident, or with its ticket, adds no key to these indexes (it did, nulls
    included: three B-tree inserts of every entry)."""
    sessions = session_factory(engine)
    async with UnitOfWork(sessions, source="/brightline/records") as uow:
        for event in LIFE:
            uow.causation = Event(event.type, event.source, event.subject, event.data, event.id)
            await handlers.record_event(commands.RecordEvent(event), uow)
        await uow.commit()
    async with engine.connect() as conn:
        # Counts each index's entries (a partial index's: the rows its predicate admits).
        await conn.execute(sa.text("ANALYZE timeline"))
        keys = dict(
            (
                await conn.execute(
                    sa.text(
                        "SELECT relname, reltuples FROM pg_class WHERE relname IN "
                        "('timeline_pkey', 'timeline_call', 'timeline_incident', "
                        "'timeline_aggregate')"
                    )
                )
            ).all()
        )
    # Four entries: the recorded ticket's names its call; the restoration names its incident
    # and no ticket (it names two: the incident's links hold them).
    assert keys == {
        "timeline_pkey": 4,
        "timeline_call": 1,
        "timeline_incident": 1,
        "timeline_aggregate": 1,
    }


# Every kind of ticket change, in an order where later business times arrive first.
MIXED = [
    observed(
        11,
        "brightline.dispatch.work-order.status-changed.v1",
        "wo-1",
        work_order_id="wo-1",
        ticket_id="t-1",
        unit_id="unit-9",
        status="on_site",
        previous_status="en_route",
        changed_at=at(30),
    ),
    observed(
        12,
        "brightline.intake.ticket.owner-changed.v1",
        "t-1",
        ticket_id="t-1",
        previous_owner="agent-1",
        new_owner="agent-2",
        changed_at=at(5),
    ),
    LIFE[1],
    observed(
        13,
        "brightline.sla.deadline.breached.v1",
        "d-1",
        deadline_id="d-1",
        ticket_id="t-1",
        breached_at=at(45),
    ),
    LIFE[0],
    LIFE[3],
]


async def test_a_batch_ends_as_its_events_folded_one_by_one(engine):
    sessions = session_factory(engine)
    for name, batches in (
        ("one_by_one", [[e] for e in MIXED]),
        ("batch", [MIXED]),
        ("reversed", [list(reversed(MIXED))]),
    ):
        for batch in batches:
            fold = repository.Fold()
            for event in batch:
                data = {
                    k: (f"{v}-{name}" if k in ("ticket_id", "ticket_no") else v)
                    for k, v in event.data.items()
                }
                if "ticket_ids" in data:
                    data["ticket_ids"] = [f"{t}-{name}" for t in data["ticket_ids"]]
                fold.add(
                    project(
                        Observed(
                            f"{event.id}-{name}",
                            event.type,
                            event.source,
                            event.subject,
                            event.time,
                            data,
                        )
                    )
                )
            async with UnitOfWork(sessions, source="/brightline/records") as uow:
                uow.ride(lambda fold=fold: repository.riding(fold))
                await uow.commit()
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT ticket_id, ticket_no, ticket_type, status, owner, unit_id, "
                    "phone_norm, address_grams, has_breached FROM tickets "
                    "WHERE ticket_id LIKE 't-1-%' ORDER BY ticket_id"
                )
            )
        ).all()
    views = {r.ticket_id.rsplit("-", 1)[1]: r[2:] for r in rows}
    assert views["batch"] == views["one_by_one"] == views["reversed"]
    assert views["batch"][:4] == ("repair", "restored", "agent-2", "unit-9")
    assert views["batch"][-1] is True


async def test_a_batch_through_the_consumer_claims_its_inbox_rows_in_the_last_statement(
    engine, monkeypatch
):
    """The consumer's whole transaction for a batch: the fold and the audit rows ride on its
    inbox claim, so the batch costs BEGIN, the claim with the fold and the audit rows, COMMIT
    (the fold as a statement of its own was one round trip more)."""
    sessions = session_factory(engine)
    sessions.configure(info={"audit": AuditTrail("records")})

    async def route(event: Event, uow: UnitOfWork) -> None:
        await handlers.record_event(commands.RecordEvent(observed_of(event)), uow)

    consumer = EventConsumer(
        name="records",
        bootstrap_servers="unused:9092",
        topics=[],
        routes={},
        session_factory=sessions,
        dead_letter_producer=None,
        source="/brightline/records",
        fallback=route,
    )
    events = [Event(e.type, e.source, e.subject, e.data, e.id) for e in LIFE]
    items = [
        (SimpleNamespace(topic="t", partition=0, offset=n), event, route)
        for n, event in enumerate(events)
    ]
    before = ROUND_TRIPS["total"]
    await consumer._apply(items)
    assert ROUND_TRIPS["total"] - before == 3
    async with engine.connect() as conn:
        claimed = (await conn.execute(sa.text("SELECT event_id FROM inbox"))).scalars().all()
    assert sorted(claimed) == sorted(e.id for e in events)

    # The next batch: the same three round trips, and its statement compiled no more (built
    # once, the fold's CTEs and the riding rows are found in SQLAlchemy's cache).
    compiled = count_compilations(monkeypatch)
    again = [(record, Event(e.type, e.source, e.subject, e.data), r) for record, e, r in items]
    before = ROUND_TRIPS["total"]
    await consumer._apply(again)
    assert ROUND_TRIPS["total"] - before == 3
    assert compiled == []
