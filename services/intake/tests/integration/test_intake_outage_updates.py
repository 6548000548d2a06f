"""Intake's copy of dispatch's outage incidents as a storm grows them: an update per report, each
naming the tickets it links. An update costs one statement whatever the incident holds: the
union of its tickets is made by the database, so neither the statement, nor what comes back,
nor the audit trail's row carries the incident's other tickets (reading the list and writing
it back, with the trail's images of the row before and after, made a storm's thousand-report
incident cost its consumer more with every report: most of intake's drain after a storm). A
consumer's batch writes all its updates in one statement at commit, and leaves the rows its
events left one by one."""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from brightline.contracts.events.dispatch import (
    OutageCancelledV1,
    OutageDeclaredV1,
    OutageRestoredV1,
    OutageUpdatedV1,
    OutageUpdatedV2,
)
from brightline.intake.adapters.orm import outages
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging.audit import CHANGES
from brightline.platform.testing import running

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
REPORTS = 40


@pytest.fixture
async def app(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app):
        yield app


@contextmanager
def statements_on_outages(runtime) -> Iterator[list[tuple[str, str]]]:
    """The SQL sent about intake's outages, with its parameters, as it is sent."""
    sent: list[tuple[str, str]] = []

    def note(_conn, _cursor, statement, parameters, *_args):
        if "outages" in statement:
            sent.append((statement, repr(parameters)))

    sa.event.listen(runtime.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(runtime.engine.sync_engine, "before_cursor_execute", note)


async def handled(app, *events) -> list[dict]:
    """The events applied in one unit of work (a consumer's batch); the audit trail's entries
    on outages."""
    bus, runtime = app.state.bus, app.state.runtime
    async with runtime.unit_of_work() as uow:
        for event in events:
            await bus.handle(event, uow)
        captured = [c for c in uow.session.info[CHANGES] if c["table"] == "outages"]
        await uow.commit()
    return captured


async def stored(app, incident_id: str):
    async with app.state.runtime.engine.connect() as conn:
        return (
            await conn.execute(sa.select(outages).where(outages.c.incident_id == incident_id))
        ).one()


async def test_an_update_costs_one_statement_whatever_the_incident_holds(app):
    await handled(app, OutageDeclaredV1(incident_id="inc-storm", declared_at=T0, unit_id="u-1"))
    tickets = [f"t-{n:03}" for n in range(REPORTS)]
    for n, ticket in enumerate(tickets):
        with statements_on_outages(app.state.runtime) as sent:
            captured = await handled(
                app,
                OutageUpdatedV2(
                    incident_id="inc-storm",
                    updated_at=T0 + timedelta(seconds=n),
                    added_ticket_ids=[ticket],
                    status="confirmed",
                ),
            )
        assert len(sent) == 1, sent
        earlier = tickets[:n]
        # Neither what is sent nor the audit trail's row names the incident's earlier tickets.
        assert not any(t in sent[0][1] for t in earlier), sent[0]
        assert len(captured) == 1 and not any(t in repr(captured) for t in earlier), captured
        assert captured[0]["after"][0]["ticket_ids"] == [ticket]
    row = await stored(app, "inc-storm")
    assert row.ticket_ids == tickets and row.status == "confirmed" and row.active


async def test_an_update_keeps_the_union_and_what_it_does_not_name(app):
    restore_at = T0 + timedelta(hours=4)
    # Updated before the declaration was seen: the row keeps what the update says.
    await handled(
        app,
        OutageUpdatedV2(
            incident_id="inc-u",
            updated_at=T0,
            added_ticket_ids=["t-b"],
            status="suspected",
            cause="雷击",
            expected_restore_at=restore_at,
        ),
    )
    row = await stored(app, "inc-u")
    assert (row.ticket_ids, row.status, row.cause, row.expected_restore_at, row.active) == (
        ["t-b"],
        "suspected",
        "雷击",
        restore_at,
        True,
    )
    # v1 names every ticket again: a union, sorted by code point; what it leaves out is kept.
    await handled(
        app,
        OutageUpdatedV1(
            incident_id="inc-u", updated_at=T0, linked_ticket_ids=["t-b", "T-c", "t-a", "t-a"]
        ),
    )
    row = await stored(app, "inc-u")
    assert row.ticket_ids == sorted({"t-b", "T-c", "t-a"})
    assert (row.status, row.cause, row.expected_restore_at) == ("suspected", "雷击", restore_at)
    later = restore_at + timedelta(hours=1)
    await handled(
        app,
        OutageUpdatedV2(
            incident_id="inc-u",
            updated_at=T0,
            added_ticket_ids=[],
            status="confirmed",
            cause="",
            expected_restore_at=later,
        ),
    )
    row = await stored(app, "inc-u")
    assert row.ticket_ids == sorted({"t-b", "T-c", "t-a"})
    assert (row.status, row.cause, row.expected_restore_at) == ("confirmed", "雷击", later)


async def test_a_batch_writes_its_updates_in_one_statement(app):
    updates = [
        OutageUpdatedV2(
            incident_id=f"inc-batch-{n % 3}",
            updated_at=T0 + timedelta(seconds=n),
            added_ticket_ids=[f"t-{n:02}"],
            status="confirmed" if n > 20 else None,
        )
        for n in range(30)
    ]
    with statements_on_outages(app.state.runtime) as sent:
        captured = await handled(app, *updates)
    assert len(sent) == 1, sent
    # The audit trail keeps each event's own row.
    assert [c["after"][0]["ticket_ids"] for c in captured] == [[f"t-{n:02}"] for n in range(30)]
    for k in range(3):
        row = await stored(app, f"inc-batch-{k}")
        assert row.ticket_ids == [f"t-{n:02}" for n in range(k, 30, 3)]
        assert row.status == "confirmed"


def random_story(rng: random.Random) -> list:
    """An incident's events as a busy consumer may see them: updates before the declaration,
    updates naming no status or an empty cause, v1 naming every ticket again, a restoration or
    a cancellation with updates after it."""
    at = [T0 + timedelta(minutes=m) for m in range(4)]
    tickets = ["t-a", "T-b", "t-c", "t-d", "t-A"]

    def update():
        named = rng.sample(tickets, rng.randint(0, 3))
        kind = OutageUpdatedV1 if rng.random() < 0.3 else OutageUpdatedV2
        field = "linked_ticket_ids" if kind is OutageUpdatedV1 else "added_ticket_ids"
        return kind(
            incident_id="",
            updated_at=rng.choice(at),
            status=rng.choice([None, "", "suspected", "confirmed", "crew_on_site"]),
            cause=rng.choice([None, "", "雷击", "树障"]),
            expected_restore_at=rng.choice([None, *at]),
            **{field: named},
        )

    kinds = [
        update,
        update,
        update,
        lambda: OutageDeclaredV1(
            incident_id="", declared_at=rng.choice(at), unit_id="u-1", status="suspected"
        ),
        lambda: OutageRestoredV1(incident_id="", restored_at=rng.choice(at), ticket_ids=[]),
        lambda: OutageCancelledV1(
            incident_id="", cancelled_at=rng.choice(at), reason="误报", actor="d-1"
        ),
    ]
    return [rng.choice(kinds)() for _ in range(rng.randint(1, 7))]


async def test_a_batch_leaves_the_rows_its_events_left_one_by_one(app):
    rng = random.Random(21)
    stories = {f"{n:02}": random_story(rng) for n in range(40)}

    def of(world: str, key: str, event):
        return event.model_copy(update={"incident_id": f"{world}-{key}"})

    for key, story in stories.items():
        for event in story:
            await handled(app, of("one", key, event))
    # The batch world's events interleaved across incidents, each incident's in its own order.
    queues = [[of("batch", key, e) for e in story] for key, story in stories.items()]
    batch = []
    while queues := [q for q in queues if q]:
        batch.append(rng.choice(queues).pop(0))
    await handled(app, *batch)

    async def world(name: str) -> dict:
        async with app.state.runtime.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(outages).where(outages.c.incident_id.like(f"{name}-%"))
                )
            ).mappings()
            return {
                r["incident_id"].removeprefix(f"{name}-"): {**r, "incident_id": ""} for r in rows
            }

    one, batched = await world("one"), await world("batch")
    assert len(one) == len(stories)
    assert batched == one
