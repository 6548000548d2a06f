"""Timers survive a restart and fire exactly once.

A drill pack with seconds-scale limits is adopted through settings. The first
app instance opens the deadlines and is shut down (lifespan exit) before they
are due; a second instance on the same database fires them; a third finds
nothing left to fire. Kafka and the table both show exactly one breach and
one escalation per deadline.
"""

from collections import Counter
from datetime import UTC, datetime

import pytest

from brightline.contracts.events.callback import CallbackTaskCreatedV1
from brightline.contracts.events.casework import CaseOpenedV1
from brightline.contracts.events.dispatch import WorkOrderCreatedV1
from brightline.messaging.kafka import prefixed
from brightline.messaging.testing import events_of, publish, read_topic
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running
from brightline.sla_monitor.main import create_app
from brightline.sla_monitor.scheduler import run_once
from brightline.sla_monitor.settings import SlaMonitorSettings

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
LEVELS = """
    escalation:
      - {at: warning, notify: [department]}
      - {at: breach, notify: [supervisor]}
      - {at: breach+2s, notify: [centre_manager]}
"""
DRILL = """
name: drill
version: "7"
extends: seed
effective_from: 2020-01-01
limits:
""" + "".join(
    f"""  {key}:
    amount: 15
    unit: seconds
    warn_at: 0.9
    source: "drill pack for the restart test"
{LEVELS}"""
    for key in ("repair.arrival.urban", "complaint.reply", "complaint.transfer", "callback.window")
)


@pytest.fixture
def settings(infra_env, db_name, tmp_path):
    pack = tmp_path / "drill.yaml"
    pack.write_text(DRILL, encoding="utf-8")
    return SlaMonitorSettings(
        database_name=db_name("sla"),
        policy_pack_files=[str(pack)],
        scheduler_interval_seconds=0.2,
        **infra_env,
    )


async def test_timers_fire_after_a_restart_and_fire_once(settings, infra_env):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    now = datetime.now(UTC)
    async with running(create_app(settings)) as client:
        await publish(
            bootstrap,
            prefix,
            WorkOrderCreatedV1(
                work_order_id="wo-r1",
                ticket_id="t-r1",
                unit_id="u1",
                area_class="urban",
                created_at=now,
            ),
            CaseOpenedV1(
                case_id="case-r1",
                ticket_id="t-r2",
                case_type="complaint",
                opened_at=now,
                first_ask_owner="agent-1",
            ),
            CallbackTaskCreatedV1(
                task_id="cb-r1",
                ticket_id="t-r3",
                ticket_type="repair",
                origin="dispatch",
                created_at=now,
                due_at=now,
            ),
        )

        async def four_open():
            rows = (await client.get("/deadlines", headers=SUPERVISOR)).json()
            return rows if len(rows) == 4 else None

        before = await eventually(four_open, timeout=90)
        assert {r["policy"] for r in before} == {"drill@7"}
        # precondition of the test: the first instance stops before anything is due
        assert {r["state"] for r in before} <= {"open", "warned"}
    # first instance gone (lifespan exited) with four running timers in the table

    async with running(create_app(settings)) as client:

        async def all_escalated():
            rows = (await client.get("/deadlines", headers=SUPERVISOR)).json()
            return rows if all(len(r["escalations_sent"]) == 1 for r in rows) else None

        rows = await eventually(all_escalated, timeout=60)
        assert {r["state"] for r in rows} == {"breached"}
        assert all(r["next_fire_at"] is None for r in rows)

    async with running(create_app(settings)) as client:
        app_runtime = client._transport.app.state.runtime
        assert await run_once(app_runtime, datetime.now(UTC)) == 0  # nothing left to fire
        breaches = (await client.get("/breaches", headers=SUPERVISOR)).json()
        assert len(breaches) == 4

    # 4 deadlines x (opened, warned, breached, breach+2s); ask for one more to catch any duplicate
    # the topic is shared by the session's tests: keep this test's subjects
    records = await read_topic(
        bootstrap, prefixed(prefix, "sla.deadlines"), expect=10_000, timeout=8
    )
    events = [
        e for e in events_of(records) if e.data["subject_id"] in ("wo-r1", "case-r1", "cb-r1")
    ]
    counts = Counter(
        (e.type.split(".")[-2], e.data["deadline_id"], e.data.get("level")) for e in events
    )
    assert len(events) == 16
    assert set(counts.values()) == {1}
    per_deadline = Counter(e.data["deadline_id"] for e in events if e.type.endswith("breached.v1"))
    assert sorted(per_deadline.values()) == [2, 2, 2, 2]  # one breach and one escalation each
    levels = Counter(e.data["level"] for e in events if e.type.endswith("breached.v1"))
    assert levels == {"breach": 4, "breach+2s": 4}
    breach = next(
        e for e in events if e.type.endswith("breached.v1") and e.data["level"] == "breach"
    )
    assert (
        breach.data["notify"] == ["supervisor"]
        and breach.data["breached_at"] == breach.data["due_at"]
    )
