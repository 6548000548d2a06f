"""What handling one repair's ticket.recorded costs dispatch (issue 21), counted exactly by the
client-side round-trip counter (brightline.platform.db.count_round_trips), never timed: the
consumer's route for the event, run in a unit of work of its own on the real database, sends
BEGIN and one read of the ticket's state (an order already? links waiting?) with the unit's
crews (load and roster); the order, with its first history row, is written at the commit in
one statement with the batch's other new orders (both rows in the audit trail, each event's
its own). In a consumer's batch the ordinary repairs' reads are one statement too, read ahead
at the first of them. The service areas are read again only when a code is not in the copy; a waiting
link is attached, and only then.

The sessions here carry no audit trail: the counts are the route's own statements, not the
trail's (brightline.messaging.audit) nor the commit's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from dispatch_helpers import (
    CREW_A_AT,
    INTEGRATION,
    dispatch_settings,
    seed_unit,
    ticket,
    topology,
)

from brightline.contracts import new_event
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.dispatch import consumers
from brightline.dispatch.adapters.orm import (
    incident_links,
    incidents,
    work_order_history,
    work_orders,
)
from brightline.dispatch.adapters.repository import (
    OutageRepository,
    WorkOrderRepository,
)
from brightline.dispatch.domain import commands
from brightline.dispatch.domain.model import ClusterKey
from brightline.dispatch.handlers import INCIDENT_UPDATES, NotFound
from brightline.dispatch.main import create_app
from brightline.messaging import UnitOfWork, audit
from brightline.messaging.audit import AuditTrail, audit_trail
from brightline.messaging.testing import count_compilations
from brightline.platform.db import (
    ROUND_TRIPS,
    count_round_trips,
    create_engine,
    database_url,
    session_factory,
)
from brightline.platform.testing import eventually, running

pytestmark = pytest.mark.integration

UNIT = "unit-rt"


@pytest.fixture(scope="module")
async def dispatch(kafka_bootstrap, postgres_server, topic_prefix) -> AsyncIterator[dict]:
    """Dispatch migrated and seeded (unit-rt, area codes unit-rt-01 and -99, crews a and b on
    duty), and a counted engine of its own on the same database."""
    settings = dispatch_settings(kafka_bootstrap, postgres_server, topic_prefix)
    app = create_app(settings)
    async with running(app) as http:
        await seed_unit(http, UNIT)
        engine = create_engine(database_url(postgres_server, settings.database_name))
        count_round_trips(engine)
        routes = app.state.bus.routes(consumers.TRANSLATORS)
        try:
            yield {
                "http": http,
                "engine": engine,
                "sessions": session_factory(engine),
                "routes": routes,
                "bus": app.state.bus,
            }
        finally:
            await engine.dispose()


async def handled(dispatch: dict, payload: TicketRecordedV1, emitted: list | None = None) -> int:
    """Round trips of the route handling the event; the commit is not counted."""
    event = new_event(payload, source="/brightline/intake")
    async with UnitOfWork(dispatch["sessions"], source="/brightline/dispatch") as uow:
        before = ROUND_TRIPS["total"]
        await dispatch["routes"][event.type](event, uow)
        trips = ROUND_TRIPS["total"] - before
        await uow.commit()
    if emitted is not None:
        emitted += uow.committed
    return trips


async def rows(dispatch: dict, query) -> list:
    async with dispatch["engine"].connect() as conn:
        return list((await conn.execute(query)).mappings())


async def handled_audited(
    dispatch: dict, sessions, payload: TicketRecordedV1
) -> tuple[int, list, dict]:
    """Round trips of the route handling the event in an audited unit of work of its own (the
    commit not counted), the events it committed and the audit row it wrote."""
    event = new_event(payload, source="/brightline/intake")
    async with UnitOfWork(sessions, source="/brightline/dispatch", causation=event) as uow:
        before = ROUND_TRIPS["total"]
        await dispatch["routes"][event.type](event, uow)
        trips = ROUND_TRIPS["total"] - before
        await uow.commit()
    [row] = await rows(
        dispatch, sa.select(audit_trail).where(audit_trail.c.detail["event_id"].astext == event.id)
    )
    return trips, uow.committed, row


async def handled_batch(dispatch: dict, sessions, batch: list) -> tuple[int, list]:
    """Round trips of the routes handling the events as one consumer batch (the commit not
    counted), and the events it committed."""
    async with UnitOfWork(sessions, source="/brightline/dispatch") as uow:
        uow.batch = tuple(batch)  # as the consumer gives it
        before = ROUND_TRIPS["total"]
        for event in batch:
            uow.causation = event
            await dispatch["routes"][event.type](event, uow)
        trips = ROUND_TRIPS["total"] - before
        uow.claim("dispatch-test", batch)
        await uow.commit()
    return trips, uow.committed


async def orders_of(dispatch: dict, *repairs: TicketRecordedV1) -> list:
    """The work orders of the repairs' tickets, oldest first."""
    return await rows(
        dispatch,
        sa.select(work_orders)
        .where(work_orders.c.ticket_id.in_([r.ticket_id for r in repairs]))
        .order_by(work_orders.c.created_at),
    )


async def test_a_routed_repair_costs_two_round_trips_before_its_commit(dispatch):
    await handled(dispatch, ticket(f"{UNIT}-01", fault_scope="own_home"))  # the areas are read
    repair = ticket(
        f"{UNIT}-01", fault_scope="own_home", latitude=CREW_A_AT[0], longitude=CREW_A_AT[1]
    )
    # BEGIN, the ticket's state with the unit's crews (an ordinary repair surely needs one);
    # the order with its history row (assigned) at the commit
    assert await handled(dispatch, repair) == 2
    [order] = await rows(
        dispatch, sa.select(work_orders).where(work_orders.c.ticket_id == repair.ticket_id)
    )
    assert (order["unit_id"], order["status"], order["crew_id"]) == (
        UNIT,
        "assigned",
        f"{UNIT}-crew-a",
    )
    history = await rows(
        dispatch,
        sa.select(work_order_history).where(work_order_history.c.work_order_id == order["id"]),
    )
    assert [(h["status"], h["crew_id"]) for h in history] == [("assigned", f"{UNIT}-crew-a")]


async def test_a_routed_repair_of_a_unit_without_crews_waits_for_one(dispatch):
    unit = f"{UNIT}-{uuid.uuid4().hex[:4]}"
    for path, body in (
        (f"/units/{unit}", {"name": "no crews yet"}),
        (
            "/service-areas",
            {"areas": [{"area_code": unit, "unit_id": unit, "area_class": "urban"}]},
        ),
    ):
        response = await dispatch["http"].put(path, json=body, headers=INTEGRATION)
        assert response.status_code == 200, response.text
    await handled(dispatch, ticket(unit, fault_scope="own_home"))  # the areas are read
    repair = ticket(unit, fault_scope="own_home")
    # BEGIN, the ticket's state with the unit's crews (none); the order (no crew, no history)
    # at the commit
    assert await handled(dispatch, repair) == 2
    [order] = await rows(
        dispatch, sa.select(work_orders).where(work_orders.c.ticket_id == repair.ticket_id)
    )
    assert (order["unit_id"], order["status"], order["crew_id"]) == (unit, "created", None)


async def test_a_repair_without_area_code_costs_two_before_its_commit(dispatch):
    # BEGIN, the ticket's state; the order (to be routed by hand: no crew, no history) at the
    # commit
    repair = ticket(None, fault_scope="own_home")
    assert await handled(dispatch, repair) == 2
    [order] = await rows(
        dispatch, sa.select(work_orders).where(work_orders.c.ticket_id == repair.ticket_id)
    )
    assert order["needs_routing"] and order["status"] == "created"


async def test_a_newly_mapped_area_routes_at_once_and_is_then_cached(dispatch):
    await handled(dispatch, ticket(f"{UNIT}-01", fault_scope="own_home"))  # the copy is warm
    code = f"{UNIT}-{uuid.uuid4().hex[:4]}"
    mapped = await dispatch["http"].put(
        "/service-areas",
        json={"areas": [{"area_code": code, "unit_id": UNIT, "area_class": "rural"}]},
        headers=INTEGRATION,
    )
    assert mapped.status_code == 200, mapped.text
    first, second = ticket(code, fault_scope="own_home"), ticket(code, fault_scope="own_home")
    assert await handled(dispatch, first) == 3  # the areas read again: the code was not known
    assert await handled(dispatch, second) == 2
    found = await rows(
        dispatch,
        sa.select(work_orders.c.unit_id, work_orders.c.area_class).where(
            work_orders.c.ticket_id.in_([first.ticket_id, second.ticket_id])
        ),
    )
    assert [(r["unit_id"], r["area_class"]) for r in found] == [(UNIT, "rural")] * 2


async def test_a_link_that_came_first_is_attached_and_costs_its_update(dispatch):
    repair = ticket(None, fault_scope="own_home")
    repeat = ticket(
        None,
        ticket_type="consultation",
        linked_ticket_id=repair.ticket_id,
        recorded_at=datetime.now(UTC),
    )
    await handled(dispatch, repeat)  # before the repair's order exists: the link waits
    # BEGIN, the ticket's state, the order, the waiting link's update
    assert await handled(dispatch, repair) == 4
    [order] = await rows(
        dispatch, sa.select(work_orders.c.id).where(work_orders.c.ticket_id == repair.ticket_id)
    )
    [link] = await rows(
        dispatch, sa.select(incident_links).where(incident_links.c.ticket_id == repeat.ticket_id)
    )
    assert link["work_order_id"] == order["id"]


async def test_a_redelivered_ticket_makes_no_second_order(dispatch):
    repair = ticket(f"{UNIT}-01", fault_scope="own_home")
    await handled(dispatch, repair)
    # BEGIN, the ticket's state, the order it already has
    assert await handled(dispatch, repair) == 3
    found = await rows(
        dispatch, sa.select(work_orders.c.id).where(work_orders.c.ticket_id == repair.ticket_id)
    )
    assert len(found) == 1


async def test_a_second_report_of_a_building_joins_its_incident_in_one_statement(dispatch):
    # Far from every other test's reports: a place of its own for the location-only clustering.
    place = {"latitude": 30.0 + uuid.uuid4().int % 1000 / 100, "longitude": 100.0}
    first = ticket(f"{UNIT}-01", fault_scope="building", **place)
    second = ticket(f"{UNIT}-01", fault_scope="building", **place)
    await handled(dispatch, first)  # declares a suspected incident, led by the first order
    emitted: list = []
    # BEGIN, the ticket's state, the clustering lock, the open incidents, the incident taking
    # the report (lead and confirmation, RETURNING); the order (a follower: no crew) is
    # written at the commit with the batch's other new orders
    assert await handled(dispatch, second, emitted) == 5
    orders = await orders_of(dispatch, first, second)
    assert [(o["is_lead"], o["incident_id"] is not None) for o in orders] == [
        (True, True),
        (False, True),
    ]
    [incident] = await rows(
        dispatch, sa.select(incidents).where(incidents.c.id == orders[0]["incident_id"])
    )
    assert incident["status"] == "confirmed" and incident["confirmed_at"] is not None
    assert incident["lead_work_order_id"] == orders[0]["id"]
    [update] = [e for e in emitted if e.type.endswith("outage.updated.v2")]
    assert update.data["status"] == "confirmed"
    assert update.data["added_ticket_ids"] == [second.ticket_id]

    # The expected restoration, and the cause when one is given: one UPDATE ... RETURNING.
    expected = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    for cause, kept in (("变压器故障", "变压器故障"), (None, "变压器故障")):
        command = commands.SetExpectedRestoration(orders[0]["incident_id"], expected, "sup", cause)
        async with UnitOfWork(dispatch["sessions"], source="/brightline/dispatch") as uow:
            before = ROUND_TRIPS["total"]
            await dispatch["bus"].handle(command, uow)
            assert ROUND_TRIPS["total"] - before == 2  # BEGIN and the statement
            await uow.commit()
        [restoration] = uow.committed
        assert restoration.data["cause"] == kept
        assert restoration.data["added_ticket_ids"] == []
    missing = commands.SetExpectedRestoration(str(uuid.uuid4()), expected, "sup")
    with pytest.raises(NotFound):
        async with UnitOfWork(dispatch["sessions"], source="/brightline/dispatch") as uow:
            await dispatch["bus"].handle(missing, uow)


async def test_a_report_of_a_meter_under_its_transformers_incident_joins_in_two_statements(
    dispatch,
):
    # A storm's report: its meter under a transformer whose incident is open. Its state, its
    # meter's place and the transformer's lock are one statement (they were three).
    transformer, meters = await topology(dispatch["http"], 2)
    first, second = (ticket(f"{UNIT}-01", meter_no=m, fault_scope="building") for m in meters)
    await handled(dispatch, first)  # declares the transformer's incident, led by this order
    emitted: list = []
    # BEGIN, the ticket's state with its meter's place and the transformer's lock, the open
    # incidents, locked; the incident taking the report and the order (a follower: no crew)
    # are written at the commit
    assert await handled(dispatch, second, emitted) == 3
    orders = await orders_of(dispatch, first, second)
    incident_id = orders[0]["incident_id"]
    assert incident_id is not None
    assert [(o["is_lead"], o["incident_id"]) for o in orders] == [
        (True, incident_id),
        (False, incident_id),
    ]
    [incident] = await rows(
        dispatch, sa.select(incidents).where(incidents.c.id == orders[0]["incident_id"])
    )
    assert (incident["transformer_id"], incident["feeder_id"]) == (transformer, f"F-{transformer}")
    [update] = [e for e in emitted if e.type.endswith("outage.updated.v2")]
    assert update.data["added_ticket_ids"] == [second.ticket_id]


async def test_a_located_reports_fold_context_holds_its_transformers_lock(dispatch):
    # The lock taken with the read is clustering's own: another transaction cannot take it
    # until this one ends, and a meter topology does not know takes none.
    transformer, [meter] = await topology(dispatch["http"], 1)
    lock_of = sa.select(
        sa.func.pg_try_advisory_xact_lock(
            sa.func.hashtextextended(f"dispatch.outage:{transformer}", 0)
        )
    )
    async with dispatch["sessions"]() as session, session.begin():
        outages = OutageRepository(session)
        unknown = await outages.fold_context(str(uuid.uuid4()), "M-nowhere")
        assert (unknown.transformer_id, unknown.existing_id, unknown.links_waiting) == (
            None,
            None,
            False,
        )
        located = await outages.fold_context(str(uuid.uuid4()), meter)
        assert (located.transformer_id, located.feeder_id) == (transformer, f"F-{transformer}")
        async with dispatch["engine"].connect() as other:
            assert await other.scalar(lock_of) is False
    async with dispatch["engine"].connect() as other:
        assert await other.scalar(lock_of) is True


async def plans(dispatch: dict, read) -> list[str]:
    """The plans of the statements `read(session)` runs, the planner told to avoid a scan where
    it can (as it would on tables of a year of work)."""
    async with dispatch["sessions"]() as session, session.begin():
        await session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        captured: list[str] = []
        original = session.execute

        async def explain(statement, *args, **kwargs):
            # A statement built once carries no values: the execution's parameters fill them.
            bound = statement.params(args[0]) if args else statement
            compiled = bound.compile(
                dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
            )
            plan = await original(sa.text(f"EXPLAIN {compiled}"))
            captured.extend(r[0] for r in plan)
            return await original(statement, *args, **kwargs)

        session.execute = explain
        await read(session)
    return captured


async def test_the_waiting_links_are_found_by_their_index(dispatch):
    """The ticket's-state read runs on every new order: its question about waiting links is
    answered by the partial index, not by reading every link ever made."""
    captured = await plans(
        dispatch, lambda session: WorkOrderRepository(session).ticket_state(str(uuid.uuid4()))
    )
    assert any("ix_incident_links_waiting" in line for line in captured), captured


async def test_a_batchs_read_ahead_finds_orders_and_waiting_links_by_their_indexes(dispatch):
    """The read ahead of a batch's repairs asks ticket_state's questions of every ticket of it:
    answered by the indexes, not by reading every order and link ever made."""
    tickets = [str(uuid.uuid4()) for _ in range(3)]
    captured = await plans(
        dispatch, lambda session: WorkOrderRepository(session).read_ahead(tickets, [UNIT])
    )
    assert any("ix_incident_links_waiting" in line for line in captured), captured
    assert any("ix_work_orders_ticket_id" in line for line in captured), captured


async def test_a_repair_compiles_no_sql_once_warm(dispatch, monkeypatch):
    """Compiling a statement costs more CPU than its round trip: once the first repair has
    compiled each of its statements, the next compiles none, the audit trail's capture of the
    rows (the consumer's sessions carry it) included."""
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})
    audited = {**dispatch, "sessions": sessions}
    repair = {"fault_scope": "own_home", "latitude": CREW_A_AT[0], "longitude": CREW_A_AT[1]}
    await handled(audited, ticket(f"{UNIT}-01", **repair))
    compiled = count_compilations(monkeypatch)
    event = new_event(ticket(f"{UNIT}-01", **repair), source="/brightline/intake")
    async with UnitOfWork(sessions, source="/brightline/dispatch") as uow:
        await dispatch["routes"][event.type](event, uow)
        assert compiled == []


@pytest.mark.parametrize("size", [3, 12])
async def test_a_batch_of_repairs_costs_four_round_trips_and_compiles_no_sql_once_warm(
    dispatch, monkeypatch, size
):
    """However many ordinary repairs a consumer's batch holds: BEGIN, their read ahead, the
    inbox claim (their orders and history rows, the outbox and audit rows riding), COMMIT; one
    by one it was two statements a repair. Both statements are built once: a warm batch
    compiles nothing."""
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})

    async def applied() -> int:
        batch = [
            new_event(ticket(f"{UNIT}-01", fault_scope="own_home"), source="/brightline/intake")
            for _ in range(size)
        ]
        before = ROUND_TRIPS["total"]
        async with UnitOfWork(sessions, source="/brightline/dispatch") as uow:
            uow.batch = tuple(batch)
            for event in batch:
                uow.causation = event
                await dispatch["routes"][event.type](event, uow)
            uow.claim("dispatch-test", batch)
            await uow.commit()
        return ROUND_TRIPS["total"] - before

    await applied()
    compiled = count_compilations(monkeypatch)
    assert await applied() == 4
    assert compiled == []


async def test_the_history_row_riding_on_a_new_order_is_in_the_audit_trail(dispatch):
    """The order and its first history row are one statement at the commit: the audit trail
    still records both rows as the event's, the order first, as it did when they were two."""
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})
    await handled({**dispatch, "sessions": sessions}, ticket(f"{UNIT}-01", fault_scope="own_home"))
    repair = ticket(f"{UNIT}-01", fault_scope="own_home", phone="13912340000")
    trips, _, row = await handled_audited(dispatch, sessions, repair)
    # BEGIN, the ticket's state with the crews (the order with its history row is written at
    # the commit): the capture of the rows costs no round trip of its own
    assert trips == 2
    [order, history] = row["changes"]
    assert (order["table"], order["op"], history["table"], history["op"]) == (
        "work_orders",
        "insert",
        "work_order_history",
        "insert",
    )
    assert order["after"][0]["ticket_id"] == repair.ticket_id
    assert order["after"][0]["phone"] != "13912340000"  # masked like any captured row
    assert history["after"][0] | {"at": None, "recorded_at": None} == {
        "work_order_id": order["after"][0]["id"],
        "status": "assigned",
        "previous_status": "created",
        "crew_id": order["after"][0]["crew_id"],
        "actor": "dispatch",
        "reason": "new order",
        "at": None,
        "recorded_at": None,
        "latitude": None,
        "longitude": None,
    }


async def test_an_audited_report_joining_an_incident_captures_it_in_no_round_trip_of_its_own(
    dispatch,
):
    """With the audit trail on, a report joining its transformer's incident costs no round
    trip for the change's images: the incident was read whole and locked, so its row before
    and after the report are known, and the row is written at the commit. (They were read
    before and again after in statements of their own, then rode on the UPDATE.)"""
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})
    _, meters = await topology(dispatch["http"], 2)
    first = ticket(f"{UNIT}-01", meter_no=meters[0], fault_scope="building")
    await handled({**dispatch, "sessions": sessions}, first)  # declares it, suspected
    third = ticket(f"{UNIT}-01", meter_no=meters[1], fault_scope="building")
    trips, committed, row = await handled_audited(dispatch, sessions, third)
    # BEGIN, the state with the place and the lock, the open incidents (whole and locked: the
    # images of the report's change are known without another read); the incident taking the
    # report and the order at the commit
    assert trips == 3
    [update] = [e for e in committed if e.type.endswith("outage.updated.v2")]
    assert (update.data["added_ticket_ids"], update.data["status"]) == (
        [third.ticket_id],
        "confirmed",
    )
    [taken] = [c for c in row["changes"] if c["table"] == "incidents"]
    assert (taken["op"], taken["count"]) == ("update", 1)
    [was], [now] = taken["before"], taken["after"]
    assert was["id"] == now["id"] == update.data["incident_id"]
    assert was["last_report_at"] < now["last_report_at"]
    assert now["lead_work_order_id"] == was["lead_work_order_id"] is not None


async def test_a_repeat_call_linked_to_an_open_incident_is_taken_in_one_statement(dispatch):
    """A storm's repeat call (intake links it to the known outage): the incident is read
    whole and locked in one statement, takes the call (its change, and its images in the audit
    trail, made on the row as read), and the row and the link are written at the commit, with
    the batch's others. It was an UPDATE ... RETURNING and an INSERT of its own each."""
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})
    audited = {**dispatch, "sessions": sessions}
    _, [meter] = await topology(dispatch["http"], 1)
    first = ticket(f"{UNIT}-01", meter_no=meter, fault_scope="building")
    await handled(audited, first)  # declares a suspected incident
    [order] = await rows(
        dispatch, sa.select(work_orders).where(work_orders.c.ticket_id == first.ticket_id)
    )
    incident_id = order["incident_id"]
    calls = [
        ticket(f"{UNIT}-01", ticket_type="consultation", linked_incident_id=incident_id)
        for _ in range(2)
    ]
    emitted: list = []
    # BEGIN, the incident read and locked (confirmed by the call at the commit)
    assert await handled(audited, calls[0], emitted) == 2
    [update] = [e for e in emitted if e.type.endswith("outage.updated.v2")]
    assert (update.data["status"], update.data["added_ticket_ids"]) == (
        "confirmed",
        [calls[0].ticket_id],
    )
    emitted.clear()
    assert await handled(audited, calls[1], emitted) == 2
    assert not [e for e in emitted if e.type.endswith("outage.updated.v2")]  # confirmed before
    [incident] = await rows(dispatch, sa.select(incidents).where(incidents.c.id == incident_id))
    assert incident["status"] == "confirmed"
    assert incident["last_report_at"] == calls[1].recorded_at  # the later call's
    links = await rows(
        dispatch, sa.select(incident_links).where(incident_links.c.incident_id == incident_id)
    )
    assert {(link["ticket_id"], link["unit_id"], link["released_at"]) for link in links} == {
        (call.ticket_id, UNIT, None) for call in calls
    }


async def test_a_batchs_repairs_are_read_in_one_statement_and_written_in_one_as_one_by_one(
    dispatch,
):
    """A consumer's batch of ordinary repairs reads what they need (each ticket's state, the
    crews of its unit) in one statement, and writes its new orders (and their history rows)
    riding on the commit's statement, where each was two of its own; what the batch decides is
    what one by one decided: a ticket's second event makes no second order, each crew's load counts
    the batch's earlier orders, and a handler that reads the table (a repeat call linked to a
    repair of the batch) finds the orders written before it runs. Each event's audit row keeps
    its own rows."""
    unit = f"unit-batch-{uuid.uuid4().hex[:6]}"
    await seed_unit(dispatch["http"], unit)
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})
    await handled(dispatch, ticket(f"{UNIT}-01", fault_scope="own_home"))  # the areas are read
    # No location: distance ranks no crew before another, so their load decides.
    repairs = [ticket(f"{unit}-01", fault_scope="own_home") for _ in range(4)]
    # A repeat call of repair 1 came before it: its order is written at once, its link attached.
    first_link = ticket(
        None,
        ticket_type="consultation",
        linked_ticket_id=repairs[1].ticket_id,
        recorded_at=datetime.now(UTC),
    )
    await handled(dispatch, first_link)
    repeat = ticket(
        None,
        ticket_type="consultation",
        linked_ticket_id=repairs[2].ticket_id,
        recorded_at=datetime.now(UTC),
    )
    batch = [
        new_event(p, source="/brightline/intake")
        for p in (repairs[0], repairs[1], repairs[0], repairs[2], repeat, repairs[3])
    ]
    async with UnitOfWork(sessions, source="/brightline/dispatch") as uow:
        uow.batch = tuple(batch)  # as the consumer gives it
        before = ROUND_TRIPS["total"]
        for event in batch:
            uow.causation = event
            await dispatch["routes"][event.type](event, uow)
        uow.claim("dispatch-test", batch)
        await uow.commit()
        # BEGIN; the four repairs' tickets' states with their unit's crews, read ahead at the
        # first; repair 1, awaited by a link: repair 0's order written first, then its own
        # and its link's update; the second event of repair 0: what is left of the batch
        # read ahead again (repair 1's crew was not counted in the first read), its order
        # there already and read; the repeat call of repair 2: repair 2's order written
        # first, then repair 2's order read and the link recorded; repair 3 read ahead again;
        # the inbox claim with its order, the outbox and audit rows riding; COMMIT. One by one
        # it was 16.
        assert ROUND_TRIPS["total"] - before == 13
    found = await rows(
        dispatch,
        sa.select(work_orders.c.id, work_orders.c.ticket_id, work_orders.c.crew_id)
        .where(work_orders.c.unit_id == unit)
        .order_by(work_orders.c.created_at),
    )
    assert [(r["ticket_id"], r["crew_id"]) for r in found] == [
        (repairs[0].ticket_id, f"{unit}-crew-a"),
        (repairs[1].ticket_id, f"{unit}-crew-b"),
        (repairs[2].ticket_id, f"{unit}-crew-a"),
        (repairs[3].ticket_id, f"{unit}-crew-b"),
    ]
    history = await rows(
        dispatch,
        sa.select(work_order_history.c.work_order_id, work_order_history.c.status).where(
            work_order_history.c.work_order_id.in_([r["id"] for r in found])
        ),
    )
    assert sorted((h["work_order_id"], h["status"]) for h in history) == sorted(
        (r["id"], "assigned") for r in found
    )
    [link] = await rows(
        dispatch, sa.select(incident_links).where(incident_links.c.ticket_id == repeat.ticket_id)
    )
    assert (link["work_order_id"], link["unit_id"]) == (found[2]["id"], unit)
    [link] = await rows(
        dispatch,
        sa.select(incident_links).where(incident_links.c.ticket_id == first_link.ticket_id),
    )
    assert link["work_order_id"] == found[1]["id"]
    created = [e.data["ticket_id"] for e in uow.committed if e.type.endswith("created.v2")]
    assert created == [r.ticket_id for r in repairs]
    for event, tables in zip(
        batch,
        (
            ["work_orders", "work_order_history"],
            ["incident_links", "work_orders", "work_order_history"],
            [],
            ["work_orders", "work_order_history"],
            ["incident_links"],
            ["work_orders", "work_order_history"],
        ),
        strict=True,
    ):
        [row] = await rows(
            dispatch,
            sa.select(audit_trail).where(audit_trail.c.detail["event_id"].astext == event.id),
        )
        assert [c["table"] for c in row["changes"]] == tables
        if "work_orders" in tables:
            [order] = [c for c in row["changes"] if c["table"] == "work_orders"]
            assert order["after"][0]["ticket_id"] == event.data["ticket_id"]


async def test_an_order_saved_again_reuses_its_update_and_the_audit_trails_join(
    dispatch, monkeypatch
):
    """Every step of an order saves it whole: the UPDATE is built once, and so is the audit
    trail's join of it to the rows before (building that cost more CPU than the round trip)."""
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})
    repair = ticket(f"{UNIT}-01", fault_scope="own_home")
    await handled({**dispatch, "sessions": sessions}, repair)
    [order] = await rows(
        dispatch, sa.select(work_orders.c.id).where(work_orders.c.ticket_id == repair.ticket_id)
    )
    joins = []
    original = audit._join_before

    def counted(*args):
        joins.append(args)
        return original(*args)

    monkeypatch.setattr(audit, "_join_before", counted)
    for crew in ("b", "a", "b"):
        move = commands.Reassign(order["id"], f"{UNIT}-crew-{crew}", "closer", "sup-1")
        async with UnitOfWork(sessions, source="/brightline/dispatch") as uow:
            await dispatch["bus"].handle(move, uow)
            await uow.commit()
    assert len(joins) <= 1  # at most the first save of this process builds it
    [saved] = await rows(dispatch, sa.select(work_orders).where(work_orders.c.id == order["id"]))
    assert (saved["status"], saved["crew_id"]) == ("assigned", f"{UNIT}-crew-b")


async def test_a_report_reads_only_the_open_incidents_it_could_join(dispatch):
    """A storm leaves a unit hundreds of open incidents; a report reads those of its own
    transformer and of its feeder as a whole (or, placed by location, the located ones), not
    every one of the unit's."""
    unit = f"unit-many-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    placed = {
        "t-mine": {"transformer_id": "T-mine", "feeder_id": "F-1"},
        "t-other": {"transformer_id": "T-other", "feeder_id": "F-1"},
        "feeder": {"feeder_id": "F-1"},
        "feeder-other": {"feeder_id": "F-2"},
        "located": {"latitude": 30.2, "longitude": 120.1, "radius_m": 500.0},
        "closed-mine": {"transformer_id": "T-mine", "feeder_id": "F-1"},
    }
    ids = {name: str(uuid.uuid4()) for name in placed}
    async with dispatch["engine"].begin() as conn:
        await conn.execute(
            incidents.insert(),
            [
                {
                    "id": ids[name],
                    "unit_id": unit,
                    "status": "restored" if name.startswith("closed") else "confirmed",
                    "declared_at": now,
                    "last_report_at": now,
                    **dict.fromkeys(
                        ("transformer_id", "feeder_id", "latitude", "longitude", "radius_m")
                    ),
                    **where,
                }
                for name, where in placed.items()
            ],
        )
    async with dispatch["sessions"]() as session, session.begin():
        outages = OutageRepository(session)

        async def read(near: ClusterKey) -> set[str]:
            found = {i.id for i in await outages.open_incidents(unit, near=near)}
            return {name for name, id_ in ids.items() if id_ in found}

        assert await read(ClusterKey("T-mine", "F-1")) == {"t-mine", "feeder"}
        assert await read(ClusterKey("T-new", None)) == set()
        assert await read(ClusterKey(latitude=30.2, longitude=120.1)) == {"located"}
        everything = {i.id for i in await outages.open_incidents(unit)}
        assert everything == {ids[n] for n in placed if not n.startswith("closed")}


async def test_a_batchs_storm_reports_read_each_transformer_once_and_join_at_the_commit(dispatch):
    """A storm's consumer batch: reports of meters under two transformers whose incidents are
    open, interleaved, one ticket's event twice. Their states and places are read ahead in one
    statement that takes both transformers' locks; each transformer's incidents are read once,
    locked; each report joins at no round trip of its own, its order and the incidents' rows
    written at the commit. What it leaves is what one by one left: every order a follower of
    its incident, each incident confirmed with its last report's time, one outage.updated per
    incident naming its tickets in order, and each event's audit row its own change, the rows
    before and after chained from one report to the next."""
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})
    placed = [await topology(dispatch["http"], 5) for _ in range(2)]
    for _, meters in placed:  # each declares its transformer's incident, led by this order
        await handled(dispatch, ticket(f"{UNIT}-01", meter_no=meters[0], fault_scope="building"))
    reports = [
        ticket(f"{UNIT}-01", meter_no=meters[i], fault_scope="building")
        for i in range(1, 5)
        for _, meters in placed
    ]
    batch = [new_event(p, source="/brightline/intake") for p in reports]
    batch.insert(3, batch[2])  # a redelivery in the batch
    trips, committed = await handled_batch(dispatch, sessions, batch)
    # BEGIN, the batch's states and places with both locks, each transformer's incidents
    assert trips == 4
    orders = await orders_of(dispatch, *reports)  # one each: the redelivery made none
    assert sorted(o["ticket_id"] for o in orders) == sorted(r.ticket_id for r in reports)
    assert not any(o["is_lead"] for o in orders)
    told = [e.data for e in committed if e.type.endswith("outage.updated.v2")]
    assert len(told) == 2
    for (transformer, _), update in zip(placed, told, strict=True):
        [incident] = await rows(
            dispatch, sa.select(incidents).where(incidents.c.transformer_id == transformer)
        )
        mine = [r for r in reports if r.meter_no.startswith(f"M-{transformer}-")]
        assert update["incident_id"] == incident["id"]
        assert update["added_ticket_ids"] == [r.ticket_id for r in mine]
        assert update["status"] == incident["status"] == "confirmed"
        assert {
            o["incident_id"] for o in orders if o["ticket_id"] in update["added_ticket_ids"]
        } == {incident["id"]}
        images = []
        for event in batch[:3] + batch[4:]:
            if event.data["ticket_id"] not in update["added_ticket_ids"]:
                continue
            [row] = await rows(
                dispatch,
                sa.select(audit_trail).where(audit_trail.c.detail["event_id"].astext == event.id),
            )
            [taken] = [c for c in row["changes"] if c["table"] == "incidents"]
            images.append((taken["before"][0], taken["after"][0]))
        assert images[0][0]["status"] == "suspected"
        for (_, after), (before_next, _) in zip(images, images[1:], strict=False):
            assert after == before_next
        assert images[-1][1]["last_report_at"] == str(incident["last_report_at"])


async def test_a_restoration_waits_for_the_batch_whose_reports_join_its_incident(dispatch):
    """The incidents a batch's reports read are locked until its commit: a restoration that
    comes meanwhile finds the reports joined, and resolves their orders with the others,
    where it would otherwise close the incident under them and leave them open."""
    _, meters = await topology(dispatch["http"], 2)
    await handled(dispatch, ticket(f"{UNIT}-01", meter_no=meters[0], fault_scope="building"))
    late = new_event(
        ticket(f"{UNIT}-01", meter_no=meters[1], fault_scope="building"),
        source="/brightline/intake",
    )
    async with UnitOfWork(dispatch["sessions"], source="/brightline/dispatch") as uow:
        await dispatch["routes"][late.type](late, uow)
        [incident_id] = uow.session.info[INCIDENT_UPDATES].by_incident

        async def restore() -> list:
            command = commands.RestoreIncident(incident_id, datetime.now(UTC), "sup-1")
            async with UnitOfWork(dispatch["sessions"], source="/brightline/dispatch") as other:
                finished = await dispatch["bus"].handle(command, other)
                await other.commit()
            return finished

        restoring = asyncio.create_task(restore())
        waiting = (
            sa.select(sa.func.count())
            .select_from(sa.text("pg_locks"))
            .where(sa.text("NOT granted"))
        )

        async def blocked() -> bool:
            async with dispatch["engine"].connect() as conn:
                return bool(await conn.scalar(waiting))

        await eventually(blocked)
        assert not restoring.done()
        await uow.commit()
    finished = await restoring
    assert late.data["ticket_id"] in {o.ticket_id for o in finished}


async def test_a_batchs_repeat_calls_are_taken_by_the_incident_read_once_and_linked_at_commit(
    dispatch,
):
    """A storm's batch of repeat calls intake linked to the known outage, a report of its
    transformer among them: the incident is read whole and locked at the first call, and the
    report's read of its transformer's incidents keeps the row as the call left it. Each call
    and the report change the row as take_link and take_report would, the first call
    confirming the fault; the row, the order and the links are written at the commit, and the
    incident is told once: confirmed, with the first call and the report added."""
    sessions = session_factory(dispatch["engine"])
    sessions.configure(info={"audit": AuditTrail("dispatch")})
    _, meters = await topology(dispatch["http"], 2)
    first = ticket(f"{UNIT}-01", meter_no=meters[0], fault_scope="building")
    await handled(dispatch, first)  # declares a suspected incident, led by this order
    [lead] = await orders_of(dispatch, first)
    incident_id = lead["incident_id"]

    def call() -> TicketRecordedV1:
        return ticket(
            f"{UNIT}-01",
            ticket_type="consultation",
            linked_incident_id=incident_id,
            recorded_at=datetime.now(UTC),
        )

    report = ticket(f"{UNIT}-01", meter_no=meters[1], fault_scope="building")
    payloads = [call(), report, call(), call()]
    batch = [new_event(p, source="/brightline/intake") for p in payloads]
    trips, committed = await handled_batch(dispatch, sessions, batch)
    # BEGIN, the incident locked at the first call; the report's state and place, its
    # transformer's incidents; the other calls none
    assert trips == 4
    [told] = [e.data for e in committed if e.type.endswith("outage.updated.v2")]
    assert (told["status"], told["added_ticket_ids"]) == (
        "confirmed",
        [payloads[0].ticket_id, report.ticket_id],
    )
    [incident] = await rows(dispatch, sa.select(incidents).where(incidents.c.id == incident_id))
    assert incident["status"] == "confirmed"
    assert incident["confirmed_at"] == payloads[0].recorded_at
    [order] = await orders_of(dispatch, report)
    # The report's is its handling's time, later than the calls' recorded before the batch.
    assert incident["last_report_at"] == max(order["created_at"], payloads[-1].recorded_at)
    assert (order["incident_id"], order["is_lead"]) == (incident_id, False)
    links = await rows(
        dispatch, sa.select(incident_links).where(incident_links.c.incident_id == incident_id)
    )
    calls = [p for p in payloads if p is not report]
    assert sorted((link["ticket_id"], link["unit_id"]) for link in links) == sorted(
        (c.ticket_id, UNIT) for c in calls
    )
    images = []
    for event in batch:
        [row] = await rows(
            dispatch,
            sa.select(audit_trail).where(audit_trail.c.detail["event_id"].astext == event.id),
        )
        tables = [c["table"] for c in row["changes"]]
        assert "incidents" in tables
        assert ("incident_links" in tables) == (event.data["ticket_type"] == "consultation")
        [taken] = [c for c in row["changes"] if c["table"] == "incidents"]
        images.append((taken["before"][0], taken["after"][0]))
    assert images[0][0]["status"] == "suspected"
    for (_, after), (before_next, _) in zip(images, images[1:], strict=False):
        assert after == before_next


async def test_a_report_leading_a_declared_incident_after_a_call_in_its_batch_keeps_both(
    dispatch,
):
    """An incident declared from the grid side has no lead until its first report. A repeat
    call taken by it in the batch is written before that report's UPDATE, which then leads the
    incident and is its last report: neither change is lost to the other."""
    transformer, meters = await topology(dispatch["http"], 1)
    declare = commands.DeclareIncident(UNIT, "grid", transformer_id=transformer)
    async with UnitOfWork(dispatch["sessions"], source="/brightline/dispatch") as uow:
        incident_id = await dispatch["bus"].handle(declare, uow)
        await uow.commit()
    linked = ticket(
        f"{UNIT}-01",
        ticket_type="consultation",
        linked_incident_id=incident_id,
        recorded_at=datetime.now(UTC),
    )
    report = ticket(f"{UNIT}-01", meter_no=meters[0], fault_scope="building")
    batch = [new_event(p, source="/brightline/intake") for p in (linked, report)]
    await handled_batch(dispatch, dispatch["sessions"], batch)
    [order] = await orders_of(dispatch, report)
    [incident] = await rows(dispatch, sa.select(incidents).where(incidents.c.id == incident_id))
    assert (order["incident_id"], order["is_lead"]) == (incident_id, True)
    assert incident["lead_work_order_id"] == order["id"]
    assert incident["last_report_at"] == order["created_at"] > linked.recorded_at
    [link] = await rows(
        dispatch, sa.select(incident_links).where(incident_links.c.ticket_id == linked.ticket_id)
    )
    assert link["incident_id"] == incident_id
