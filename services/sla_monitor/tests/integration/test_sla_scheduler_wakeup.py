"""The scheduler sleeps until the next fire time, not a fixed interval, and a consumer opening a
deadline wakes it; a round writes its state changes with one batched UPDATE.

The scheduler's cap (scheduler_interval_seconds) is an hour here: every point below fires only
because the loop woke at min(next_fire_at) or on a consumer's notify. With a fixed sleep (or
without the notify) the warning and breach would not fire within the test's timeout."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from brightline.contracts.events.dispatch import WorkOrderCreatedV1
from brightline.messaging.schema import outbox
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running
from brightline.sla_monitor import handlers
from brightline.sla_monitor.adapters.repository import DeadlineRepository
from brightline.sla_monitor.domain.monitor import Open
from brightline.sla_monitor.main import create_app
from brightline.sla_monitor.scheduler import Scheduler, Wakeup, run_once
from brightline.sla_monitor.settings import SlaMonitorSettings

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
DRILL = """
name: drill-wake
version: "1"
extends: seed
effective_from: 2020-01-01
limits:
  repair.arrival.urban:
    amount: 4
    unit: seconds
    warn_at: 0.5
    source: "drill pack for the wake-up test"
    escalation:
      - {at: breach+2s, notify: [centre_manager]}
"""


@pytest.fixture
def settings(infra_env, db_name, tmp_path):
    pack = tmp_path / "drill.yaml"
    pack.write_text(DRILL, encoding="utf-8")
    return SlaMonitorSettings(
        database_name=db_name("sla"),
        policy_pack_files=[str(pack)],
        scheduler_interval_seconds=3600,
        kpi_refresh_seconds=3600,
        **infra_env,
    )


async def test_the_scheduler_wakes_for_a_new_deadline_and_at_each_fire_time(settings, infra_env):
    app = create_app(settings)
    async with running(app) as client:
        # the scheduler's first round found nothing: it now sleeps up to its one-hour cap
        await publish(
            infra_env["kafka_bootstrap_servers"],
            infra_env["kafka_topic_prefix"],
            WorkOrderCreatedV1(
                work_order_id="wo-wake",
                ticket_id="t-wake",
                unit_id="u1",
                area_class="urban",
                created_at=datetime.now(UTC),
            ),
        )

        async def escalated():
            rows = (
                await client.get("/deadlines", params={"ticket_id": "t-wake"}, headers=SUPERVISOR)
            ).json()
            return rows if rows and rows[0]["escalations_sent"] else None

        [row] = await eventually(escalated, timeout=60)
        assert row["state"] == "breached" and row["policy"] == "drill-wake@1"
        # warned (on the notify), breached and escalated (each at the next min(next_fire_at))
        assert row["warned_at"] and row["breached_at"] and row["next_fire_at"] is None


async def test_a_round_writes_its_changes_with_one_batched_update(settings):
    app = create_app(settings.model_copy(update={"scheduler_enabled": False}))
    async with running(app):
        runtime = app.state.runtime
        book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
        past = datetime.now(UTC) - timedelta(minutes=5)
        async with runtime.unit_of_work() as uow:
            for i in range(30):
                await handlers.handle(
                    Open(
                        limit_key="repair.arrival.urban",
                        subject_type="work_order",
                        subject_id=f"wo-b{i}",
                        ticket_id=f"t-b{i}",
                        at=past,
                    ),
                    DeadlineRepository(uow.session),
                    uow.emit,
                    book=book,
                )
            await uow.commit()

        updates = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("UPDATE DEADLINES"):
                updates.append((executemany, len(parameters) if executemany else 1))

        sa.event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
        try:
            assert await run_once(runtime, datetime.now(UTC), batch=100) == 30
        finally:
            sa.event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)
        assert updates == [(True, 30)]  # one executemany for the round, not one UPDATE per row

        async with runtime.engine.connect() as conn:
            states = (
                await conn.execute(sa.text("SELECT state, count(*) FROM deadlines GROUP BY state"))
            ).all()
            breached = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.event_type == "brightline.sla.deadline.breached.v1")
            )
        assert states == [("breached", 30)]
        assert (
            breached == 60
        )  # the breach and the breach+2s escalation of each, written with the round
        assert await run_once(runtime, datetime.now(UTC)) == 0  # fired once


async def test_a_wake_up_with_nothing_due_locks_nothing_and_commits_nothing(settings):
    """Most of the loop's wake-ups (every scheduler_interval_seconds, a quarter second by
    default) find nothing due: a look at the earliest fire time, rolled back, and no round."""
    app = create_app(settings.model_copy(update={"scheduler_enabled": False}))
    async with running(app):
        runtime = app.state.runtime
        book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
        async with runtime.unit_of_work() as uow:
            await handlers.handle(
                Open(
                    limit_key="repair.arrival.urban",
                    subject_type="work_order",
                    subject_id="wo-later",
                    ticket_id="t-later",
                    at=datetime.now(UTC) + timedelta(hours=1),  # due in an hour
                ),
                DeadlineRepository(uow.session),
                uow.emit,
                book=book,
            )
            await uow.commit()

        seen: list[str] = []

        def of_the_scheduler(kind: str):
            def record(*args, **kwargs):
                task = asyncio.current_task()
                if task is not None and task.get_name() == "sla-scheduler":
                    seen.append(kind if kind != "statement" else args[2])

            return record

        sync = runtime.engine.sync_engine
        hooks = {
            "before_cursor_execute": of_the_scheduler("statement"),
            "commit": of_the_scheduler("COMMIT"),
        }
        for name, hook in hooks.items():
            sa.event.listen(sync, name, hook)

        async def woke_a_few_times() -> bool:
            return len(seen) >= 5

        scheduler = Scheduler(runtime, interval=0.05, wakeup=Wakeup())
        try:
            scheduler.start()
            await eventually(woke_a_few_times, timeout=60)
        finally:
            await scheduler.stop()
            for name, hook in hooks.items():
                sa.event.remove(sync, name, hook)
        assert seen and all("min(deadlines.next_fire_at)" in s for s in seen), seen
