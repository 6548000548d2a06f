"""What opening repair deadlines costs the SLA monitor's consumer, counted by the client-side
counter the benchmark reads (DB_COUNT_ROUND_TRIPS), on the real PostgreSQL: a consumer batch's
deadlines read ahead in one statement and inserted riding on the commit's last one (a unit of
work of events not given as a batch inserts each at once), with the batch's events logged (the
replay history); the log keeps the batch's order, and each event keeps its own audit row."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from brightline.contracts import InvalidEvent, new_event
from brightline.contracts.events.dispatch import WorkOrderCreatedV1, WorkOrderStatusChangedV1
from brightline.messaging import UnitOfWork
from brightline.messaging.audit import AS_IT_CAME, AuditTrail, audit_trail
from brightline.platform.db import (
    ROUND_TRIPS,
    session_factory,
)
from brightline.platform.testing import counted_database
from brightline.sla_monitor import handlers
from brightline.sla_monitor.adapters.orm import deadlines, event_log
from brightline.sla_monitor.adapters.repository import ADD, to_row
from brightline.sla_monitor.domain import commands
from brightline.sla_monitor.domain.monitor import open_tracked
from brightline.sla_monitor.main import SERVICE_DIR
from brightline.sla_monitor.settings import SlaMonitorSettings
from brightline.sla_monitor.translate import inputs_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine(postgres_server, db_name):
    async with counted_database(postgres_server, db_name("sla"), SERVICE_DIR) as engine:
        yield engine


async def test_a_batch_of_work_orders_logs_in_one_statement(engine):
    settings = SlaMonitorSettings()
    book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    created = [
        new_event(
            WorkOrderCreatedV1(
                work_order_id=f"wo-{n}",
                ticket_id=f"t-{n}",
                unit_id="U1",
                area_class="urban",
                created_at=T0 + timedelta(seconds=n),
            ),
            source="/brightline/dispatch",
        )
        for n in range(5)
    ]
    sessions = session_factory(engine)
    sessions.configure(info={"audit": AuditTrail("sla_monitor")})
    async with UnitOfWork(sessions, source="/brightline/sla_monitor") as uow:
        await uow.session.connection()  # the transaction's BEGIN is the consumer's
        before = ROUND_TRIPS["total"]
        # The hot path's statements go on the connection: no ORM execution per event.
        orm_executions: list[object] = []

        def executed(state: object) -> None:
            orm_executions.append(state)

        sa_event.listen(Session, "do_orm_execute", executed)
        try:
            for event in created:
                uow.causation = event
                await handlers.observe_event(
                    commands.ObserveEvent(event), uow, book=book, notify=lambda at: None
                )
        finally:
            sa_event.remove(Session, "do_orm_execute", executed)
        assert ROUND_TRIPS["total"] - before == len(created)  # one INSERT per deadline
        assert orm_executions == []
        await uow.commit()
    # the log, the outbox and audit rows in one statement, COMMIT
    assert ROUND_TRIPS["total"] - before == len(created) + 2

    async with engine.connect() as conn:
        logged = (
            await conn.execute(sa.select(event_log.c.event_id).order_by(event_log.c.seq))
        ).all()
        opened = await conn.scalar(sa.select(sa.func.count()).select_from(deadlines))
        audited = (
            await conn.execute(
                sa.select(audit_trail.c.detail, audit_trail.c.changes).order_by(audit_trail.c.seq)
            )
        ).all()
    assert [r.event_id for r in logged] == [e.id for e in created]
    assert opened == len(created)
    assert [d["event_id"] for d, _ in audited] == [e.id for e in created]
    for (_, changes), event in zip(audited, created, strict=True):
        assert sorted(c["table"] for c in changes) == ["deadlines", "event_log"]
        [log] = [c for c in changes if c["table"] == "event_log"]
        assert [r["event_id"] for r in log["after"]] == [event.id]
        assert [r["data"] for r in log["after"]] == [AS_IT_CAME]  # the event's, in the row


def _created(n: int, *, first: int = 0) -> list:
    return [
        new_event(
            WorkOrderCreatedV1(
                work_order_id=f"wo-{k}",
                ticket_id=f"t-{k}",
                unit_id="U1",
                area_class="urban",
                created_at=T0 + timedelta(seconds=k),
            ),
            source="/brightline/dispatch",
        )
        for k in range(first, first + n)
    ]


async def _observe_batch(engine, batch: list, book, *, skip=()) -> tuple[int, list]:
    """The events applied as a consumer applies a batch (uow.batch set, each its causation; those
    in `skip` are not applied); returns the round trips from the BEGIN on (COMMIT included) and
    the events emitted."""
    sessions = session_factory(engine)
    sessions.configure(info={"audit": AuditTrail("sla_monitor")})
    async with UnitOfWork(sessions, source="/brightline/sla_monitor") as uow:
        uow.batch = tuple(batch)
        await uow.session.connection()
        before = ROUND_TRIPS["total"]
        for event in batch:
            if event in skip:
                continue
            uow.causation = event
            await handlers.observe_event(
                commands.ObserveEvent(event), uow, book=book, notify=lambda at: None
            )
        emitted = [e.type for e in uow.pending]
        await uow.commit()
    return ROUND_TRIPS["total"] - before, emitted


@pytest.mark.parametrize("n", [3, 12])
async def test_a_batch_opens_its_deadlines_in_one_read_and_the_commits_statement(engine, n):
    """A consumer batch's repairs: one read ahead (do their deadlines exist?), then their INSERT,
    the log, the outbox and audit rows in one statement whatever their number, COMMIT."""
    settings = SlaMonitorSettings()
    book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    created = _created(n)
    trips, emitted = await _observe_batch(engine, created, book)
    assert trips == 3
    assert emitted == ["brightline.sla.deadline.opened.v1"] * n

    # Opened once: a batch holding a cause replayed (a deadline opened before) and one new
    # repair opens the new one alone, in the same three round trips.
    again = [*_created(2), *_created(1, first=n)]
    trips, emitted = await _observe_batch(engine, again, book)
    assert trips == 3
    assert emitted == ["brightline.sla.deadline.opened.v1"]

    async with engine.connect() as conn:
        opened = (await conn.execute(sa.select(deadlines.c.subject_id, deadlines.c.due_at))).all()
        audited = (
            await conn.execute(
                sa.select(audit_trail.c.detail, audit_trail.c.changes).order_by(audit_trail.c.seq)
            )
        ).all()
    assert sorted(r.subject_id for r in opened) == sorted(f"wo-{k}" for k in range(n + 1))
    assert all(r.due_at is not None for r in opened)
    # each event its own audit row, with the deadline it opened (none for the replayed causes)
    tables = {d["event_id"]: sorted(c["table"] for c in changes) for d, changes in audited}
    for event in created:
        assert tables[event.id] == ["deadlines", "event_log"]
    assert [tables[e.id] for e in again] == [
        ["event_log"],
        ["event_log"],
        ["deadlines", "event_log"],
    ]


async def test_a_batch_opening_one_deadline_inserts_it_at_once_without_reading_ahead(engine):
    """A batch whose events open one deadline (the others move none): its INSERT at once, no
    read ahead; then the log, the outbox and audit rows in one statement, COMMIT."""
    settings = SlaMonitorSettings()
    book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    en_route = [
        new_event(
            WorkOrderStatusChangedV1(
                work_order_id=f"wo-{k}",
                ticket_id=f"t-{k}",
                unit_id="U1",
                status="en_route",
                previous_status="accepted",
                changed_at=T0 + timedelta(minutes=k),
            ),
            source="/brightline/dispatch",
        )
        for k in range(1, 3)
    ]
    trips, emitted = await _observe_batch(engine, [*_created(1), *en_route], book)
    assert trips == 3
    assert emitted == ["brightline.sla.deadline.opened.v1"]


async def test_a_later_input_of_the_batch_sees_the_deadline_it_opened(engine):
    """A deadline opened and met in one batch: the met input reads the table, so the batch's new
    deadlines are written before it; the deadline ends met."""
    settings = SlaMonitorSettings()
    book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    created = _created(3)
    on_site = new_event(
        WorkOrderStatusChangedV1(
            work_order_id="wo-1",
            ticket_id="t-1",
            unit_id="U1",
            status="on_site",
            previous_status="en_route",
            changed_at=T0 + timedelta(minutes=20),
        ),
        source="/brightline/dispatch",
    )
    trips, emitted = await _observe_batch(engine, [*created, on_site], book)
    # the read ahead, the three INSERTed at once before the met input's locked read and its
    # UPDATE; then the log, the outbox and audit rows in one statement, COMMIT
    assert trips == 6
    assert emitted == ["brightline.sla.deadline.opened.v1"] * 3 + ["brightline.sla.deadline.met.v1"]
    async with engine.connect() as conn:
        states = dict(
            (await conn.execute(sa.select(deadlines.c.subject_id, deadlines.c.state))).all()
        )
    assert states == {"wo-0": "open", "wo-1": "met", "wo-2": "open"}


async def test_a_later_event_off_its_contract_fails_its_own_turn_not_the_read_ahead(engine):
    """The read ahead translates the batch's later events: one whose payload breaks its contract
    is left to its own turn (retries, the dead-letter topic, blamed on it); the repairs before
    and after it still open their deadlines in one read and the commit's statement."""
    settings = SlaMonitorSettings()
    book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    good = _created(6)
    broken = dataclasses.replace(_created(1, first=6)[0], data={"work_order_id": "wo-6"})
    trips, emitted = await _observe_batch(
        engine, [*good[:3], broken, *good[3:]], book, skip=[broken]
    )
    assert trips == 3
    assert emitted == ["brightline.sla.deadline.opened.v1"] * 6
    with pytest.raises(InvalidEvent):
        broken.payload()


async def test_a_deadline_opened_after_the_read_ahead_fails_the_commit(engine):
    """Read ahead as absent, then opened and committed by another transaction before the
    batch's commit: its opening was published by the batch too, so the commit fails (the
    riding INSERT meets the deadline's key: nothing of the batch is written) and the consumer
    applies each event alone, where add() finds that deadline and opens only the others."""
    settings = SlaMonitorSettings()
    book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
    created = _created(3)
    sessions = session_factory(engine)
    sessions.configure(info={"audit": AuditTrail("sla_monitor")})
    async with UnitOfWork(sessions, source="/brightline/sla_monitor") as uow:
        uow.batch = tuple(created)
        for n, event in enumerate(created):
            uow.causation = event
            await handlers.observe_event(
                commands.ObserveEvent(event), uow, book=book, notify=lambda at: None
            )
            if n == 0:
                [opening] = inputs_for(created[1], book)
                tracked, _ = open_tracked(opening, book)
                async with engine.begin() as other:
                    await other.execute(ADD, to_row(tracked))
        with pytest.raises(sa.exc.IntegrityError, match="deadlines_pkey"):
            await uow.commit()
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(deadlines.c.subject_id))).scalars().all() == ["wo-1"]

    emitted = [(await _observe_batch(engine, [event], book))[1] for event in created]
    assert emitted == [
        ["brightline.sla.deadline.opened.v1"],
        [],
        ["brightline.sla.deadline.opened.v1"],
    ]
    async with engine.connect() as conn:
        opened = (await conn.execute(sa.select(deadlines.c.subject_id))).scalars().all()
    assert sorted(opened) == ["wo-0", "wo-1", "wo-2"]
