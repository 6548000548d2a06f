"""What learning whom to call back costs callback's consumer, counted by the client-side counter
the benchmark reads (DB_COUNT_ROUND_TRIPS), on the real PostgreSQL: a batch's ticket records are
written in one statement riding on the commit (no statement of their own), each event keeping
its own audit row; a handler of the same batch that reads a contact (a ticket recorded and
finished in one batch) sees it; a later record of a ticket in the batch wins as the upsert's rule
has it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from brightline.callback import handlers
from brightline.callback.adapters.orm import callback_tasks, contacts
from brightline.callback.adapters.rule_files import callback_script_rules
from brightline.callback.domain import commands
from brightline.callback.main import SERVICE_DIR
from brightline.callback.settings import CallbackSettings
from brightline.contracts import new_event
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.messaging import UnitOfWork
from brightline.messaging.audit import AuditTrail, audit_trail
from brightline.platform.db import (
    ROUND_TRIPS,
    session_factory,
)
from brightline.platform.testing import counted_database

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def engine(postgres_server, db_name):
    async with counted_database(postgres_server, db_name("callback"), SERVICE_DIR) as engine:
        yield engine


def _remember(ticket_id: str, n: int, **changes) -> commands.RememberContact:
    values = {
        "ticket_id": ticket_id,
        "ticket_type": "repair",
        "phone": f"1380000{n:04d}",
        "caller_name": f"王{n}",
        "area_code": "TJ-HP",
        "anonymous": False,
        "recorded_at": T0 + timedelta(seconds=n),
        **changes,
    }
    return commands.RememberContact(**values)


def _cause(ticket_id: str):
    """An event to stand as the cause of a handler's changes (the audit row's)."""
    return new_event(
        TicketRecordedV1(
            ticket_id=ticket_id,
            ticket_no=f"NO-{ticket_id}",
            ticket_type="repair",
            recorded_at=T0,
            first_ask_owner="agent-1",
            description="停电",
        ),
        source="/brightline/intake",
    )


async def _contacts(engine) -> dict[str, sa.Row]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(contacts))).all()
    return {r.ticket_id: r for r in rows}


async def _finished(uow, ticket_id: str, ticket_type, origin, at: datetime, **more):
    """The ticket finished in its owning service: its callback task opens."""
    return await handlers.open_callback_task(
        commands.OpenCallbackTask(
            ticket_id=ticket_id,
            ticket_type=ticket_type,
            origin=origin,
            unit_id="U1",
            finished_at=at,
            finish_ref=f"{origin}:{ticket_id}:1",
            **more,
        ),
        uow,
        policy=CallbackSettings().policy(),
        tz=TZ,
        now=T0,
        script_rules=callback_script_rules(),
    )


def _sessions(engine):
    sessions = session_factory(engine)
    sessions.configure(info={"audit": AuditTrail("callback")})
    return sessions


async def test_a_batch_of_ticket_records_rides_on_the_commit(engine):
    records = [_remember(f"t-{n}", n) for n in range(6)]
    causes = [_cause(r.ticket_id) for r in records]
    async with UnitOfWork(_sessions(engine), source="/brightline/callback") as uow:
        await uow.session.connection()  # the transaction's BEGIN is the consumer's
        before = ROUND_TRIPS["total"]
        for command, cause in zip(records, causes, strict=True):
            uow.causation = cause
            await handlers.remember_contact(command, uow, now=T0)
        assert ROUND_TRIPS["total"] == before  # nothing sent per record
        await uow.commit()
    # the contacts, the audit rows in one statement, COMMIT
    assert ROUND_TRIPS["total"] - before == 2

    stored = await _contacts(engine)
    assert {t: (r.phone, r.caller_name, r.anonymous) for t, r in stored.items()} == {
        c.ticket_id: (c.phone, c.caller_name, False) for c in records
    }
    async with engine.connect() as conn:
        audited = (
            await conn.execute(
                sa.select(audit_trail.c.detail, audit_trail.c.changes).order_by(audit_trail.c.seq)
            )
        ).all()
    assert [d["event_id"] for d, _ in audited] == [e.id for e in causes]
    for (_, changes), command in zip(audited, records, strict=True):
        [change] = changes
        assert change["table"] == "contacts" and change["op"] == "insert"
        [after] = change["after"]
        assert after["ticket_id"] == command.ticket_id
        assert command.phone not in str(change)  # masked, as the captured upsert was


async def test_a_ticket_recorded_and_finished_in_one_batch_is_called_back(engine):
    async with UnitOfWork(_sessions(engine), source="/brightline/callback") as uow:
        uow.causation = _cause("t-done")
        await handlers.remember_contact(_remember("t-done", 1), uow, now=T0)
        task = await _finished(uow, "t-done", "consultation", "intake", T0 + timedelta(minutes=1))
        await uow.commit()
    assert task is not None and task.callable  # the phone the batch's record gave was seen
    assert (await _contacts(engine))["t-done"].phone == "13800000001"


async def test_a_later_record_in_the_batch_wins_by_the_upserts_rule(engine):
    async with UnitOfWork(_sessions(engine), source="/brightline/callback") as uow:
        uow.causation = _cause("t-stored")
        await handlers.remember_contact(_remember("t-stored", 1), uow, now=T0)
        await uow.commit()
    async with UnitOfWork(_sessions(engine), source="/brightline/callback") as uow:
        for command in (
            # stored before with a phone: a record without one keeps it
            _remember("t-stored", 2, phone=None, caller_name=None, area_code="TJ-NK"),
            # twice in the batch: the second keeps what the first gave and it lacks
            _remember("t-twice", 3),
            _remember("t-twice", 4, phone=None, ticket_type="consultation"),
            # an anonymous record clears what an earlier one of the batch gave
            _remember("t-anon", 5),
            _remember("t-anon", 6, anonymous=True, ticket_type="report"),
        ):
            uow.causation = _cause(command.ticket_id)
            await handlers.remember_contact(command, uow, now=T0)
        await uow.commit()
    stored = await _contacts(engine)
    assert (stored["t-stored"].phone, stored["t-stored"].area_code) == ("13800000001", "TJ-NK")
    assert (stored["t-twice"].phone, stored["t-twice"].caller_name) == ("13800000003", "王4")
    assert stored["t-twice"].ticket_type == "consultation"
    assert (stored["t-anon"].phone, stored["t-anon"].caller_name) == (None, None)
    assert stored["t-anon"].anonymous


async def test_an_anonymous_record_after_its_task_makes_the_task_not_callable(engine):
    async with UnitOfWork(_sessions(engine), source="/brightline/callback") as uow:
        uow.causation = _cause("t-report")
        await _finished(uow, "t-report", "report", "casework", T0, phone="13900000000")
        await uow.commit()
    async with UnitOfWork(_sessions(engine), source="/brightline/callback") as uow:
        uow.causation = _cause("t-report")
        await handlers.remember_contact(
            _remember("t-report", 7, anonymous=True, ticket_type="report"), uow, now=T0
        )
        await uow.commit()
    async with engine.connect() as conn:
        callable_ = await conn.scalar(
            sa.select(callback_tasks.c.callable).where(callback_tasks.c.ticket_id == "t-report")
        )
    assert callable_ is False
    stored = (await _contacts(engine))["t-report"]
    assert (stored.phone, stored.anonymous) == (None, True)
