"""Intake's copy of dispatch's work orders: every repair brings three events (the order created,
assigned, its arrival clock). A consumer's batch writes them all in one statement at commit,
built once (building an upsert cost more CPU than executing its cached compiled form); the
read model ends as the events' upserts one by one left it, and the audit trail's capture
stays what it was: each event's row."""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.sql import dml

from brightline.contracts import jsontext
from brightline.contracts.events.dispatch import (
    WorkOrderCreatedV1,
    WorkOrderCreatedV2,
    WorkOrderStatusChangedV1,
)
from brightline.intake.adapters.orm import work_orders
from brightline.intake.adapters.repository import ORDERS_SEEN, riding_work_orders
from brightline.intake.domain.commands import KeepArrivalDeadline
from brightline.intake.domain.work_orders import WorkOrderFold
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging.audit import CHANGES
from brightline.platform.testing import running

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def app(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app):
        yield app


def created(order: str, at: datetime) -> WorkOrderCreatedV1:
    return WorkOrderCreatedV1(
        work_order_id=order,
        ticket_id=f"t-{order}",
        unit_id="u-1",
        area_class="urban",
        created_at=at,
    )


def assigned(
    order: str, at: datetime, status: str = "assigned", crew: str | None = "crew-7"
) -> WorkOrderStatusChangedV1:
    return WorkOrderStatusChangedV1(
        work_order_id=order,
        ticket_id=f"t-{order}",
        unit_id="u-1",
        status=status,
        previous_status="created",
        changed_at=at,
        crew_id=crew,
    )


def deadline(order: str, opened_at: datetime, due: datetime) -> KeepArrivalDeadline:
    return KeepArrivalDeadline(order, f"t-{order}", due, opened_at)


async def test_a_repairs_work_order_events_build_no_statement_and_keep_the_read_model(
    app, monkeypatch
):
    bus, runtime = app.state.bus, app.state.runtime
    due = T0 + timedelta(minutes=45)
    events = [
        created("wo-1", T0),
        assigned("wo-1", T0 + timedelta(minutes=1)),
        KeepArrivalDeadline("wo-1", "t-wo-1", due, T0 + timedelta(seconds=2)),
        # Late and out of order: never moves a later state back.
        created("wo-1", T0),
    ]
    async with runtime.unit_of_work() as uow:
        await bus.handle(created("wo-0", T0), uow)  # first use: compiled, cached
        built: list[str] = []
        original = dml.Insert.__init__

        def counted(self, table, *args, **kwargs):
            built.append(str(table))
            original(self, table, *args, **kwargs)

        monkeypatch.setattr(dml.Insert, "__init__", counted)
        for event in events:
            await bus.handle(event, uow)
        monkeypatch.setattr(dml.Insert, "__init__", original)
        captured = [c for c in uow.session.info[CHANGES] if c["table"] == "work_orders"]
        await uow.commit()
    assert built == []

    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(sa.select(work_orders).where(work_orders.c.work_order_id == "wo-1"))
        ).one()
    assert (row.status, row.crew_id, row.updated_at, row.arrive_by) == (
        "assigned",
        "crew-7",
        T0 + timedelta(minutes=1),
        due,
    )
    # The audit trail saw the values of every upsert, by column.
    after = [c["after"][0] for c in captured]
    assert [a["status"] for a in after] == ["created", "created", "assigned", "created", "created"]
    assert after[2]["crew_id"] == "crew-7" and after[3]["arrive_by"] == due


@contextmanager
def statements_on_work_orders(runtime) -> Iterator[list[str]]:
    """The SQL sent to the database that writes intake's work orders, as it is sent."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "INTO work_orders" in statement:
            sent.append(statement)

    sa.event.listen(runtime.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(runtime.engine.sync_engine, "before_cursor_execute", note)


async def test_a_batch_of_work_order_events_writes_the_read_model_in_one_statement(app):
    bus, runtime = app.state.bus, app.state.runtime
    with statements_on_work_orders(runtime) as sent:
        async with runtime.unit_of_work() as uow:
            # Eight repairs' events as a busy fetch brings them: 24 events for 8 orders.
            for n in range(8):
                order = f"wo-batch-{n}"
                await bus.handle(created(order, T0), uow)
                await bus.handle(deadline(order, T0, T0 + timedelta(minutes=45)), uow)
                await bus.handle(assigned(order, T0 + timedelta(minutes=1)), uow)
            assert sent == []  # nothing before the commit
            await uow.commit()
    # One statement, and not one of its own: the orders ride on the commit's last statement,
    # with the batch's audit rows.
    [statement] = sent
    assert "INTO audit_trail" in statement
    async with runtime.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    work_orders.c.status, work_orders.c.crew_id, work_orders.c.arrive_by
                ).where(work_orders.c.work_order_id.like("wo-batch-%"))
            )
        ).all()
    assert sorted(rows) == [("assigned", "crew-7", T0 + timedelta(minutes=45))] * 8


def random_story(rng: random.Random, order: str) -> list:
    """An order's events in an order a busy consumer may see them: late, repeated, a deadline
    before the order, times that tie, status changes naming no crew."""
    at = [T0 + timedelta(minutes=m) for m in range(4)]
    kinds = [
        lambda: created(order, rng.choice(at)),
        lambda: assigned(order, rng.choice(at), crew=rng.choice(["crew-1", "crew-2", None])),
        lambda: assigned(order, rng.choice(at), status="on_site", crew=None),
        lambda: deadline(order, rng.choice(at), rng.choice(at) + timedelta(hours=1)),
    ]
    return [rng.choice(kinds)() for _ in range(rng.randint(1, 6))]


async def test_a_batch_leaves_the_rows_its_events_left_one_by_one(app):
    """Orders with a stored row (one earlier event, committed) and without; each order's story
    applied event by event (a unit of work each) in one world, in one batch (one statement) in
    the other."""
    bus, runtime = app.state.bus, app.state.runtime
    rng = random.Random(21)
    stories = {}
    for n in range(60):
        earlier = random_story(rng, "")[:1] if n % 2 else []
        stories[f"{n:02}"] = (earlier, random_story(rng, ""))

    def of(prefix: str, key: str, event):
        order = f"{prefix}-{key}"
        if isinstance(event, KeepArrivalDeadline):
            return KeepArrivalDeadline(order, f"t-{order}", event.due_at, event.opened_at)
        return event.model_copy(update={"work_order_id": order, "ticket_id": f"t-{order}"})

    async def apply(events) -> None:
        async with runtime.unit_of_work() as uow:
            for event in events:
                await bus.handle(event, uow)
            await uow.commit()

    for key, (earlier, story) in stories.items():
        for prefix in ("one", "batch"):
            if earlier:
                await apply([of(prefix, key, e) for e in earlier])
        for event in story:
            await apply([of("one", key, event)])
    # The batch world's events interleaved across orders, each order's in its own order.
    queues = [[of("batch", key, e) for e in story] for key, (_, story) in stories.items()]
    batch = []
    while queues := [q for q in queues if q]:
        batch.append(rng.choice(queues).pop(0))
    with statements_on_work_orders(runtime) as sent:
        await apply(batch)
    assert len(sent) == 1

    async def world(prefix: str) -> dict:
        async with runtime.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(work_orders).where(work_orders.c.work_order_id.like(f"{prefix}-%"))
                )
            ).mappings()
            return {
                r["work_order_id"].removeprefix(prefix): {
                    **r,
                    "work_order_id": None,
                    "ticket_id": r["ticket_id"].removeprefix(f"t-{prefix}"),
                }
                for r in rows
            }

    one_by_one = await world("one")
    assert len(one_by_one) == len(stories)
    assert await world("batch") == one_by_one


def rows_read(plan: dict) -> int:
    """Rows the plan's scans of the batch (its CTEs) read, over all their loops (EXPLAIN's
    per-loop counts of rows returned and removed by a filter, times the loops)."""
    read = 0
    if plan.get("Node Type") == "CTE Scan":
        per_loop = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        read += per_loop * plan["Actual Loops"]
    return read + sum(rows_read(child) for child in plan.get("Plans", ()))


async def test_a_batchs_stored_orders_are_each_found_in_the_batch_once(app):
    """The conflict branch finds each stored order's folded events by its key: the rows it
    reads grow with the batch's orders, not with their square (a scan of the whole batch per
    stored order, twice)."""
    runtime = app.state.runtime
    orders = 60

    def fold_of(at: datetime, status: str) -> WorkOrderFold:
        fold = WorkOrderFold()
        for n in range(orders):
            fold.seen(
                {
                    "work_order_id": f"wo-plan-{n:02}",
                    "ticket_id": f"t-plan-{n:02}",
                    "unit_id": "u-1",
                    "status": status,
                    "crew_id": "crew-7" if status == "assigned" else None,
                    "updated_at": at,
                }
            )
        return fold

    async with runtime.unit_of_work() as uow:
        first = fold_of(T0, "created")
        uow.ride(lambda: riding_work_orders(first))
        await uow.commit()
    later = jsontext.dumps(
        fold_of(T0 + timedelta(minutes=1), "assigned").rows(), default=datetime.isoformat
    ).decode()
    async with runtime.engine.connect() as conn:
        explained = await conn.execute(
            sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {ORDERS_SEEN.text}"), {"orders": later}
        )
        plan = explained.scalar_one()[0]["Plan"]
        updated = (
            await conn.execute(
                sa.select(sa.func.count()).where(
                    work_orders.c.work_order_id.like("wo-plan-%"),
                    work_orders.c.status == "assigned",
                )
            )
        ).scalar_one()
        await conn.rollback()
    assert updated == orders
    assert rows_read(plan) <= 4 * orders, plan


async def test_a_work_order_created_already_offered_to_a_crew_is_kept_as_assigned(app):
    """Dispatch says an order created and offered to a crew in one step with one event
    (created.v2): intake's copy ends as v1's two events left it, the crew named."""
    bus, runtime = app.state.bus, app.state.runtime
    offered = WorkOrderCreatedV2(
        **created("wo-v2", T0).model_dump(),
        status="assigned",
        crew_id="crew-9",
        status_changed_at=T0 + timedelta(seconds=1),
        status_actor="system:dispatch",
    )
    async with runtime.unit_of_work() as uow:
        await bus.handle(offered, uow)
        await uow.commit()
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(sa.select(work_orders).where(work_orders.c.work_order_id == "wo-v2"))
        ).one()
    assert (row.status, row.crew_id, row.updated_at) == (
        "assigned",
        "crew-9",
        T0 + timedelta(seconds=1),
    )


async def test_a_leading_orders_created_event_brings_its_arrival_deadline(app):
    """Dispatch says a leading order's arrival deadline with its created event: intake keeps
    it for repeat callers without the SLA monitor's deadline event."""
    bus, runtime = app.state.bus, app.state.runtime
    due = T0 + timedelta(minutes=45)
    async with runtime.unit_of_work() as uow:
        await bus.handle(
            WorkOrderCreatedV2(**created("wo-v2-due", T0).model_dump(), arrive_by=due), uow
        )
        await uow.commit()
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(work_orders).where(work_orders.c.work_order_id == "wo-v2-due")
            )
        ).one()
    assert (row.status, row.arrive_by) == ("created", due)
