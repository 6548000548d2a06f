"""The audit trail covers the changes that emit no event (issue 22): customer imports, crews,
members and PINs, service areas and topology, callback leases, console chases, SLA
pause/resume, intake's repair close on a handled event. Each is read back through
GET /audit/events, the service's own trail, on the real broker and database; and an edited
row is found by the verify command."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from brightline.contracts.events.dispatch import WorkOrderReturnedV1
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.messaging.audit import audit_seals, audit_trail, main, verify
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.db import create_engine, database_url
from brightline.platform.testing import bearer, eventually, running, service_app

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-audit")
INTEGRATION = bearer(Role.INTEGRATION, subject="crm-audit")
AGENT = bearer(Role.AGENT, subject="agent-audit", staff_no="1101")


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def trail(client, **params) -> list[dict]:
    response = await client.get("/audit/events", params=params, headers=SUPERVISOR)
    assert response.status_code == 200, response.text
    return response.json()


def change(row: dict, table: str, op: str) -> dict:
    [found] = [c for c in row["changes"] if c.get("table") == table and c.get("op") == op][:1]
    return found


@pytest.fixture
def env(infra_env):
    """Topics of this test alone: another test's events never reach this one's services."""
    return {**infra_env, "kafka_topic_prefix": f"{infra_env['kafka_topic_prefix']}{uid('a')}."}


@pytest.fixture
def start(env, db_name):
    def start(service: str, **settings):
        name = db_name(service)
        return name, running(service_app(service, **env, database_name=name, **settings))

    return start


async def test_customer_import_and_repair_close_in_intakes_trail(start, env):
    _, app = start("intake")
    async with app as client:
        customer = uid("c")
        imported = await client.post(
            "/customers/import",
            json={
                "customers": [
                    {"customer_id": customer, "name": "王小明", "phones": ["13812345678"]},
                ]
            },
            headers=INTEGRATION,
        )
        assert imported.status_code == 200, imported.text
        [row] = await trail(client, action="POST /customers/import")
        assert row["actor"] == "crm-audit" and row["kind"] == "request"
        assert any(
            r.get("customer_id") == customer for c in row["changes"] for r in c.get("after") or []
        ), row
        assert "13812345678" not in str(row) and "王小明" not in str(row)  # masked

        # Intake's repair close: a returned work order handled from Kafka, no event emitted.
        created = await client.post(
            "/tickets",
            json={
                "ticket_type": "repair",
                "description": "家里停电",
                "caller_name": "李四",
                "phone": "13912340001",
                "address": "幸福小区1栋",
                "fault_scope": "own_home",
                "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
            },
            headers={**AGENT, "Idempotency-Key": uid("k")},
        )
        assert created.status_code == 201, created.text
        ticket = created.json()["id"]
        returned = WorkOrderReturnedV1(
            work_order_id=uid("wo"),
            ticket_id=ticket,
            unit_id="unit-1",
            returned_at=datetime.now(UTC),
            resolution="repaired",
        )
        await publish(env["kafka_bootstrap_servers"], env["kafka_topic_prefix"], returned)

        async def closed():
            return await trail(client, kind="event", ticket_id=ticket)

        [row] = await eventually(closed)
        assert row["action"] == "brightline.dispatch.work-order.returned.v1"
        assert row["actor"] == "event:/brightline/dispatch" or row["actor"].startswith("event:")
        update = change(row, "tickets", "update")
        assert update["before"][0]["closed"] is False
        assert (update["after"][0]["closed"], update["after"][0]["status"]) == (True, "resolved")


async def test_crews_members_areas_and_topology_in_dispatchs_trail(start):
    _, app = start("dispatch")
    async with app as client:
        unit, crew = uid("unit"), uid("crew")
        steps = [
            await client.put(f"/units/{unit}", json={"name": "城东班"}, headers=INTEGRATION),
            await client.put(
                "/service-areas",
                json={
                    "areas": [{"area_code": f"{unit}-01", "unit_id": unit, "area_class": "urban"}]
                },
                headers=INTEGRATION,
            ),
            await client.put(
                f"/crews/{crew}", json={"unit_id": unit, "name": "一组"}, headers=INTEGRATION
            ),
            await client.put(
                f"/crews/{crew}/members/{crew}-m1",
                json={"name": "张师傅"},
                headers=INTEGRATION,
            ),
            await client.put(
                f"/crews/{crew}/members/{crew}-m1",
                json={"name": "张建国"},
                headers=SUPERVISOR,
            ),
            await client.put(
                "/topology",
                json={
                    "transformers": [{"transformer_id": f"T-{unit}", "feeder_id": "F-1"}],
                    "meters": [
                        {"meter_no": f"M-{unit}-{i}", "transformer_id": f"T-{unit}"}
                        for i in range(3)
                    ],
                },
                headers=INTEGRATION,
            ),
        ]
        assert all(s.status_code == 200 for s in steps), [s.text for s in steps]

        [areas] = await trail(client, action="PUT /service-areas")
        assert change(areas, "service_areas", "insert")["after"][0]["area_code"] == f"{unit}-01"
        [crew_row] = await trail(client, action="PUT /crews/{crew_id}", subject=crew)
        assert crew_row["actor"] == "crm-audit"
        members = await trail(client, action="PUT /crews/{crew_id}/members/{member_id}")
        assert [m["actor"] for m in members] == ["crm-audit", "sup-audit"]
        # The member's change is in the trail, the person's name masked. (PINs are no longer
        # dispatch's: crews sign in at the identity provider, whose admin events audit them.)
        assert "张建国" not in str(members)
        assert any(
            r.get("member_id") == f"{crew}-m1" and r.get("name") == "张**"
            for c in members[1]["changes"]
            for r in c.get("after") or []
        ), members[1]["changes"]
        [topology] = await trail(client, action="PUT /topology")
        meters = [c for c in topology["changes"] if c.get("table") == "meters"]
        assert sum(c["count"] for c in meters) == 3
        assert (await trail(client, action="PUT /units/{unit_id}"))[0]["subject"] == unit


async def test_callback_lease_in_callbacks_trail(start, env):
    _, app = start("callback")
    async with app as client:
        ticket, unit = uid("tk"), uid("unit")
        await publish(
            env["kafka_bootstrap_servers"],
            env["kafka_topic_prefix"],
            TicketRecordedV1(
                ticket_id=ticket,
                ticket_no="202612010000001",
                ticket_type="repair",
                recorded_at=datetime.now(UTC),
                first_ask_owner="agent-9",
                description="停电",
                caller_name="张三",
                phone="13800138000",
            ),
            WorkOrderReturnedV1(
                work_order_id=uid("wo"),
                ticket_id=ticket,
                unit_id=unit,
                returned_at=datetime.now(UTC),
                resolution="repaired",
            ),
        )

        async def task_open():
            r = await client.get(
                "/callback-tasks", params={"ticket_id": ticket}, headers=SUPERVISOR
            )
            return r.json()

        await eventually(task_open)
        taken = await client.post("/callback-tasks/next", headers=AGENT)
        assert taken.status_code == 200, taken.text
        [lease] = await trail(client, action="POST /callback-tasks/next")
        assert lease["actor"] == "agent-audit" and lease["ticket_id"] == ticket
        update = change(lease, "callback_tasks", "update")
        assert update["before"][0]["lease_holder"] is None
        assert update["after"][0]["lease_holder"] == "agent-audit"
        # The handled events that opened the task are in the trail too.
        handled = await trail(client, kind="event", ticket_id=ticket)
        assert {r["action"] for r in handled} >= {"brightline.dispatch.work-order.returned.v1"}


async def test_console_chase_in_consoles_trail(start):
    _, app = start("console")
    async with app as client:
        deadline = uid("dl")
        chased = await client.post(
            f"/api/supervisor/breaches/{deadline}/chase",
            json={"ticket_id": "t-chase", "limit_key": "complaint.reply", "note": "请尽快回复"},
            headers=SUPERVISOR,
        )
        assert chased.status_code == 201, chased.text
        [row] = await trail(client, subject=deadline)
        assert row["action"] == "POST /api/supervisor/breaches/{deadline_id}/chase"
        assert row["actor"] == "sup-audit" and row["ticket_id"] == "t-chase"
        inserted = change(row, "chases", "insert")["after"][0]
        assert (inserted["deadline_id"], inserted["note"]) == (deadline, "请尽快回复")


async def test_sla_pause_and_resume_in_the_monitors_trail(start):
    _, app = start("sla_monitor", scheduler_enabled=False)
    async with app as client:
        opened = await client.post(
            "/deadlines",
            json={
                "limit_key": "complaint.reply",
                "subject_type": "case",
                "subject_id": uid("case"),
                "ticket_id": "t-pause",
            },
            headers=SUPERVISOR,
        )
        assert opened.status_code == 201, opened.text
        deadline = opened.json()["id"]
        paused = await client.post(
            f"/deadlines/{deadline}/pause",
            json={"reason": "waiting_for_customer"},
            headers=SUPERVISOR,
        )
        assert paused.status_code == 200, paused.text
        resumed = await client.post(f"/deadlines/{deadline}/resume", headers=SUPERVISOR)
        assert resumed.status_code == 200, resumed.text

        [pause] = await trail(client, action="POST /deadlines/{deadline_id}/pause")
        [resume] = await trail(client, action="POST /deadlines/{deadline_id}/resume")
        for row, before, after in ((pause, "open", "paused"), (resume, "paused", "open")):
            assert row["subject"] == deadline and row["actor"] == "sup-audit"
            assert row["ticket_id"] == "t-pause"
            update = change(row, "deadlines", "update")
            assert (update["before"][0]["state"], update["after"][0]["state"]) == (before, after)


async def test_an_edited_or_deleted_audit_row_is_found_by_verify(start, postgres_server, capsys):
    name, app = start("casework")
    async with app as client:
        for n in range(3):
            put = await client.put(
                f"/departments/dep-{n}",
                json={"name": f"营销部{n}", "case_types": ["complaint"]},
                headers=INTEGRATION,
            )
            assert put.status_code == 200, put.text
        url = database_url(postgres_server, name)
        engine = create_engine(url, pool_size=1)

        async def sealed():
            # The sealer chains committed rows about a second later; until then verify counts
            # them as not sealed yet.
            result = await verify(engine)
            return result if result.unsealed == 0 and result.rows >= 3 else None

        try:
            result = await eventually(sealed)
            assert result.intact
        except BaseException:
            await engine.dispose()
            raise
    try:
        assert await asyncio.to_thread(main, ["verify", url]) == 0
        assert "0 not sealed yet" in capsys.readouterr().out

        # The table refuses edits outright ...
        async with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                await conn.execute(sa.update(audit_trail).values(actor="someone-else"))
        # ... so a forger has to switch the trigger off first: verify still finds the row.
        async with engine.begin() as conn:
            second = await conn.scalar(
                sa.select(audit_seals.c.seq).order_by(audit_seals.c.chain_seq).offset(1).limit(1)
            )
            third = await conn.scalar(
                sa.select(audit_seals.c.seq).order_by(audit_seals.c.chain_seq).offset(2).limit(1)
            )
            await conn.execute(sa.text("ALTER TABLE audit_trail DISABLE TRIGGER USER"))
            await conn.execute(
                sa.update(audit_trail)
                .where(audit_trail.c.seq == second)
                .values(actor="someone-else")
            )
        result = await verify(engine)
        assert (result.intact, result.broken_at, result.reason) == (
            False,
            second,
            "row content changed",
        )
        assert await asyncio.to_thread(main, ["verify", url]) == 1
        assert f"BROKEN at seq {second}" in capsys.readouterr().out

        # A deleted row breaks the link of the one after it in the chain.
        async with engine.begin() as conn:
            await conn.execute(sa.delete(audit_trail).where(audit_trail.c.seq == second))
        result = await verify(engine)
        assert (result.broken_at, result.reason) == (third, "previous row missing or changed")
    finally:
        await engine.dispose()
