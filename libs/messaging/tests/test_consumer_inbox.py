"""The consumer's inbox claim rides on the commit's last statement (issue 21): a fresh batch sends
no claim of its own, and a redelivered event the inbox already holds is applied once all the
same, whether its route would do it again unnoticed or fails on the effects it left. Counted on
the real PostgreSQL, never timed; the batches are handed to the consumer as a fetch would hand
them (no broker needed: the claim is the database's business)."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text

from brightline.contracts import new_event
from brightline.contracts.topics import INTAKE_TICKETS
from brightline.messaging import EventConsumer
from brightline.messaging.consumer import EVENTS_PER_TURN
from brightline.messaging.schema import metadata as messaging_metadata
from brightline.messaging.testing import sample_ticket as ticket
from brightline.platform.db import (
    ROUND_TRIPS,
    count_round_trips,
    create_engine,
    database_url,
    ensure_database,
    session_factory,
)
from brightline.platform.testing import longest_stretch, turns_of_other_work

pytestmark = pytest.mark.integration

TYPE = "brightline.intake.ticket.recorded.v1"


@pytest.fixture
async def engine(postgres_server, db_name):
    name = db_name("inbox")
    await ensure_database(postgres_server, name)
    engine = create_engine(database_url(postgres_server, name), pool_size=4)
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        # Keyed: applying an event twice in one transaction breaks it (the failing route).
        await conn.execute(text("CREATE TABLE applied (event_id text PRIMARY KEY)"))
        await conn.execute(text("CREATE TABLE calls (event_id text NOT NULL)"))
    count_round_trips(engine)
    yield engine
    await engine.dispose()


def consumer_on(engine, route) -> EventConsumer:
    """A consumer never started: the test hands it what a fetch would. It has no dead-letter
    producer: a record it wrongly took for a failure (max_attempts 1) would fail the test."""
    return EventConsumer(
        name="inbox-consumer",
        bootstrap_servers="unused:9092",
        topics=[INTAKE_TICKETS],
        routes={TYPE: route},
        session_factory=session_factory(engine),
        dead_letter_producer=None,
        source="/brightline/test",
        max_attempts=1,
        retry_backoff=0.01,
    )


def pending(events, offset: int = 0) -> list:
    records = [
        SimpleNamespace(topic="tickets", partition=0, offset=offset + n, headers=[])
        for n in range(len(events))
    ]
    return [(r, e, None) for r, e in zip(records, events, strict=True)]


async def apply(consumer: EventConsumer, events, offset: int = 0) -> None:
    items = [(r, e, consumer.routes[TYPE]) for r, e, _ in pending(events, offset)]
    await consumer._apply(items)


def statements(engine) -> list[str]:
    sent: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    sa_event.listen(engine.sync_engine, "before_cursor_execute", before)
    return sent


async def rows(engine, sql: str) -> list:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql))).scalars())


def writing(*, keyed: bool):
    """A route that writes a row (keyed: one an event's second application breaks) and emits
    an event: the commit has outbox rows for the claim to ride on."""

    async def route(event, uow) -> None:
        await uow.session.execute(text("INSERT INTO calls VALUES (:id)"), {"id": event.id})
        if keyed:
            await uow.session.execute(text("INSERT INTO applied VALUES (:id)"), {"id": event.id})
        uow.emit(ticket(int(event.data["description"]) + 1000))

    return route


async def test_a_fresh_batch_sends_no_claim_of_its_own(engine):
    consumer = consumer_on(engine, writing(keyed=True))
    events = [new_event(ticket(i), source="/brightline/intake") for i in range(3)]
    sent = statements(engine)
    before = ROUND_TRIPS["total"]
    await apply(consumer, events)
    # the routes' six inserts, then the outbox rows with the inbox claim riding: one statement
    assert len(sent) == 7, sent
    [claim] = [s for s in sent if "inbox" in s]
    assert claim == sent[-1] and "INSERT INTO outbox" in claim
    assert ROUND_TRIPS["total"] - before == 9  # BEGIN, the seven, COMMIT
    assert sorted(await rows(engine, "SELECT event_id FROM inbox")) == sorted(e.id for e in events)
    assert len(await rows(engine, "SELECT id FROM outbox")) == 3
    assert consumer.handled_total == 3


@pytest.mark.parametrize("keyed", [False, True], ids=["unnoticed", "failing"])
@pytest.mark.parametrize("batch", [True, False], ids=["batch", "one"])
async def test_a_redelivered_event_is_applied_once_whether_its_route_fails_or_not(
    engine, batch, keyed
):
    """Unkeyed, a route applying a redelivered event again goes unnoticed until the commit's
    claim finds the event in the inbox; keyed, the second application makes the route fail
    before the claim, which must cost no attempt (max_attempts 1, no dead-letter producer)."""
    consumer = consumer_on(engine, writing(keyed=keyed))
    events = [new_event(ticket(i), source="/brightline/intake") for i in range(5)]
    first, again = events[:2], [events[2], events[0], events[3], events[1], events[2], events[4]]
    await apply(consumer, first)
    if batch:
        await apply(consumer, again, offset=2)
    else:
        for n, event in enumerate(again):
            await apply(consumer, [event], offset=2 + n)
    processed = await rows(engine, "SELECT processed_at FROM inbox ORDER BY event_id")
    await apply(consumer, events, offset=8)  # all of them again: nothing to commit
    assert await rows(engine, "SELECT processed_at FROM inbox ORDER BY event_id") == processed
    assert Counter(await rows(engine, "SELECT event_id FROM calls")) == {e.id: 1 for e in events}
    assert sorted(await rows(engine, "SELECT event_id FROM inbox")) == sorted(e.id for e in events)
    emitted = await rows(engine, "SELECT data->>'description' FROM outbox")
    assert sorted(emitted) == sorted(str(1000 + i) for i in range(5))  # each event's once
    assert consumer.handled_total == 5 and consumer.dead_lettered_total == 0


async def test_a_route_sees_the_events_its_batch_is_to_apply(engine):
    """uow.batch: the batch's events in order, for a route that reads what several need in one
    statement (dispatch's repairs); a redelivery the claim found is no longer among them when
    the batch is applied again."""
    seen: list[tuple[str, tuple[str, ...]]] = []
    write = writing(keyed=False)

    async def route(event, uow) -> None:
        seen.append((event.id, tuple(e.id for e in uow.batch)))
        await write(event, uow)

    consumer = consumer_on(engine, route)
    events = [new_event(ticket(i), source="/brightline/intake") for i in range(3)]
    await apply(consumer, events[:1])
    seen.clear()
    await apply(consumer, [events[1], events[0], events[2]], offset=1)
    fresh, applied_before = (events[1].id, events[2].id), (events[1].id, events[0].id, events[2].id)
    assert seen == [
        (events[1].id, applied_before),
        (events[0].id, applied_before),
        (events[2].id, applied_before),
        (events[1].id, fresh),
        (events[2].id, fresh),
    ]


async def test_a_batch_gives_its_process_turns_between_a_few_events(engine):
    """Routes that gather their writes for the commit await no I/O: a batch of them gives the
    process's requests a turn every few events, not once at its commit. Counted, never timed:
    the events applied between two turns of a task that only yields."""
    applied = 0

    async def gathering(event, uow) -> None:
        nonlocal applied
        applied += 1

    consumer = consumer_on(engine, gathering)
    consumer.batch_size = 45
    events = [new_event(ticket(i), source="/brightline/intake") for i in range(45)]
    async with turns_of_other_work(lambda: applied) as turns:
        await apply(consumer, events)
    assert applied == 45
    assert longest_stretch(turns) <= EVENTS_PER_TURN
    assert len(await rows(engine, "SELECT event_id FROM inbox")) == 45


async def test_a_batch_ended_as_a_deadlocks_victim_is_applied_again_at_no_attempts_cost(engine):
    """PostgreSQL ends one transaction of a deadlock (SQLSTATE 40P01): the batch's records did
    nothing wrong, so the batch is applied again and no attempt is counted (max_attempts 1 and
    no dead-letter producer: a counted attempt would fail the test)."""
    write = writing(keyed=True)
    victims = 0

    async def route(event, uow) -> None:
        nonlocal victims
        await write(event, uow)
        if not victims:
            victims += 1
            await uow.session.execute(
                text(
                    "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' "
                    "USING ERRCODE = 'deadlock_detected'; END $$"
                )
            )

    consumer = consumer_on(engine, route)
    events = [new_event(ticket(i), source="/brightline/intake") for i in range(3)]
    await apply(consumer, events)
    assert victims == 1
    assert Counter(await rows(engine, "SELECT event_id FROM calls")) == {e.id: 1 for e in events}
    assert consumer.handled_total == 3 and consumer.dead_lettered_total == 0
