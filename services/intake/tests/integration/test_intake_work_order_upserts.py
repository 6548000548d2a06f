"""Intake's copy of dispatch's work orders: every repair brings three events (the order created,
assigned, its arrival clock), each an upsert. Their statements are built once (building an
upsert cost more CPU than executing its cached compiled form), and the read model and the
audit trail's capture stay what they were."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.sql import dml

from brightline.contracts.events.dispatch import WorkOrderCreatedV1, WorkOrderStatusChangedV1
from brightline.intake.adapters.orm import work_orders
from brightline.intake.domain.commands import KeepArrivalDeadline
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


def assigned(order: str, at: datetime) -> WorkOrderStatusChangedV1:
    return WorkOrderStatusChangedV1(
        work_order_id=order,
        ticket_id=f"t-{order}",
        unit_id="u-1",
        status="assigned",
        previous_status="created",
        changed_at=at,
        crew_id="crew-7",
    )


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
