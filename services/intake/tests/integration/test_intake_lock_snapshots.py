"""The locks that serialise POST /tickets must come before the reads they protect, in snapshot
terms: a request that waited on a lock must see what the holder committed meanwhile. Folding a
lock into the same statement as its lookup would read the snapshot taken before the wait."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from brightline.intake.adapters.repository import TicketRepository
from brightline.intake.domain.model import Ticket
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging import idempotency
from brightline.platform.auth import Role
from brightline.platform.db import database_url, server_url
from brightline.platform.testing import bearer, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-lock")
REPAIR = {
    "ticket_type": "repair",
    "description": "家里停电",
    "caller_name": "王五",
    "phone": "13700137000",
    "address": "锁路8号",
    "fault_scope": "own_home",
    "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
}


@pytest.fixture
async def stack(infra_env, db_name):
    name = db_name("intake")
    app = create_app(IntakeSettings(database_name=name, **infra_env))
    async with running(app) as client:
        engine = create_async_engine(database_url(server_url(infra_env["database_url"]), name))
        try:
            yield client, engine
        finally:
            await engine.dispose()


async def blocked(task: asyncio.Task) -> bool:
    await asyncio.sleep(0.5)
    return not task.done()


async def test_a_request_waiting_on_its_idempotency_key_replays_what_the_first_one_committed(stack):
    _, engine = stack
    body_hash = idempotency.request_hash({"a": 1})
    async with engine.connect() as first, engine.connect() as second:
        first_session = AsyncSession(bind=first)
        second_session = AsyncSession(bind=second)
        assert await idempotency.lock_and_lookup(first_session, "race", "k", body_hash) is None
        waiting = asyncio.create_task(
            idempotency.lock_and_lookup(second_session, "race", "k", body_hash)
        )
        assert await blocked(waiting), "the second request must wait for the first"
        await idempotency.remember(first_session, "race", "k", body_hash, 201, {"id": "t-1"})
        await first_session.commit()
        stored = await asyncio.wait_for(waiting, 10)
        assert stored == idempotency.StoredResponse(201, {"id": "t-1"})
        await second_session.rollback()


async def test_a_first_request_that_rolls_back_leaves_the_key_to_the_one_waiting(stack):
    _, engine = stack
    body_hash = idempotency.request_hash({"a": 2})
    async with engine.connect() as first, engine.connect() as second:
        first_session = AsyncSession(bind=first)
        second_session = AsyncSession(bind=second)
        assert await idempotency.lock_and_lookup(first_session, "race", "k2", body_hash) is None
        waiting = asyncio.create_task(
            idempotency.lock_and_lookup(second_session, "race", "k2", body_hash)
        )
        assert await blocked(waiting)
        await first_session.rollback()
        assert await asyncio.wait_for(waiting, 10) is None
        await idempotency.remember(second_session, "race", "k2", body_hash, 201, {"id": "t-2"})
        await second_session.commit()
    async with engine.connect() as conn:
        session = AsyncSession(bind=conn)
        assert await idempotency.lock_and_lookup(
            session, "race", "k2", body_hash
        ) == idempotency.StoredResponse(201, {"id": "t-2"})
        with pytest.raises(idempotency.IdempotencyKeyReused):
            await idempotency.lock_and_lookup(
                session, "race", "k2", idempotency.request_hash({"a": 3})
            )


async def test_a_repair_call_waiting_on_the_address_lock_links_to_the_repair_committed_meanwhile(
    stack,
):
    client, engine = stack
    async with engine.connect() as conn:
        session = AsyncSession(bind=conn)
        tickets = TicketRepository(session)
        await tickets.lock_address(
            REPAIR["address"], None
        )  # a first call at this address, mid-transaction
        first = Ticket.record(
            id="11111111-1111-1111-1111-111111111111",
            no="",
            type="repair",
            recorded_at=datetime.now(UTC),
            first_ask_owner="agent-other",
            description="停电",
            details=dict(REPAIR),
            required_fields=(),
        )
        await tickets.add(first)
        second = asyncio.create_task(client.post("/tickets", json=REPAIR, headers=AGENT))
        assert await blocked(second), "the second call must wait on the address lock"
        await session.commit()
    response = await asyncio.wait_for(second, 10)
    assert response.status_code == 201, response.text
    assert response.json()["ticket_type"] == "consultation"
    assert response.json()["details"]["linked_ticket_id"] == first.id


async def test_a_retry_waiting_on_its_key_claimed_with_the_address_lock_replays_the_first(stack):
    """The key's claim rides on the address lock's statement (one round trip less per repair):
    a retry waits on the key the first request claimed, takes no lock meanwhile, and replays
    what the first one committed."""
    _, engine = stack
    body_hash = idempotency.request_hash({"a": 4})
    async with engine.connect() as first_conn, engine.connect() as second_conn:
        first, second = AsyncSession(bind=first_conn), AsyncSession(bind=second_conn)
        idempotency.defer_claim(first, "race", "k4", body_hash)
        await TicketRepository(first).lock_address_of("键路1号", None, "cu-none")
        idempotency.defer_claim(second, "race", "k4", body_hash)
        retry = asyncio.create_task(TicketRepository(second).lock_address_of("键路1号", None, None))
        assert await blocked(retry), "the retry must wait on the key its first request holds"
        await idempotency.remember(first, "race", "k4", body_hash, 201, {"id": "t-4"})
        await first.commit()
        with pytest.raises(idempotency.Replayed) as replayed:
            await asyncio.wait_for(retry, 10)
        assert replayed.value.stored == idempotency.StoredResponse(201, {"id": "t-4"})
        await second.rollback()


async def test_another_call_at_the_address_waits_on_the_lock_taken_with_a_fresh_claim(stack):
    _, engine = stack
    async with engine.connect() as first_conn, engine.connect() as second_conn:
        first, second = AsyncSession(bind=first_conn), AsyncSession(bind=second_conn)
        idempotency.defer_claim(first, "race", "k5", idempotency.request_hash({"a": 5}))
        await TicketRepository(first).lock_address_of("键路2号", None, None)
        idempotency.defer_claim(second, "race", "k6", idempotency.request_hash({"a": 6}))
        other = asyncio.create_task(
            TicketRepository(second).lock_address_of("键路2号", None, "cu-none")
        )
        assert await blocked(other), "a call at the same address must wait on its lock"
        await first.commit()
        assert await asyncio.wait_for(other, 10) == (None, None)  # fresh: goes on, no record
        await second.rollback()
