"""Repeat-call linking from dispatch's events on the real broker, the caller card, greetings
with the outage announced first, completion and reopen from callback."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from brightline.contracts.events.callback import ReopenRequestedV1
from brightline.contracts.events.dispatch import (
    OutageDeclaredV1,
    OutageUpdatedV2,
    WorkOrderCreatedV1,
    WorkOrderPromotedV2,
    WorkOrderReturnedV1,
)
from brightline.contracts.topics import INTAKE_TICKETS
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging.kafka import prefixed
from brightline.messaging.testing import events_of, publish, read_topic
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024")
SYSTEM = bearer(Role.INTEGRATION, subject="customer-system")
NOW = datetime.now(UTC)


def repair(**over):
    return {
        "ticket_type": "repair",
        "description": "家里没电了",
        "caller_name": "张三",
        "phone": "13800138000",
        "address": "和平路 8 号 2 单元",
        "fault_scope": "own_home",
        "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        **over,
    }


@pytest.fixture
async def app_client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield app, client


@pytest.fixture
def client(app_client):
    return app_client[1]


async def tickets_events(infra_env, ticket_id, expect):
    topic = prefixed(infra_env["kafka_topic_prefix"], INTAKE_TICKETS.name)

    async def mine():
        records = await read_topic(
            infra_env["kafka_bootstrap_servers"], topic, expect=10**6, timeout=2
        )
        found = [e for e in events_of(records) if e.subject == ticket_id]
        return found if len(found) >= expect else None

    return await eventually(mine, timeout=30)


async def test_repair_at_an_address_with_an_open_work_order_becomes_a_linked_consultation(
    client, infra_env
):
    first = await client.post("/tickets", json=repair(meter_no="M-1"), headers=AGENT)
    assert first.status_code == 201, first.text
    repair_id = first.json()["id"]
    assert first.json()["ticket_type"] == "repair" and first.json()["linked"] is None

    await publish(
        infra_env["kafka_bootstrap_servers"],
        infra_env["kafka_topic_prefix"],
        WorkOrderCreatedV1(
            work_order_id="wo-1",
            ticket_id=repair_id,
            unit_id="unit-1",
            area_class="urban",
            created_at=NOW,
        ),
    )

    async def linked():
        # Same address written differently (full-width digits, no spaces): the same place.
        r = await client.post(
            "/tickets",
            json=repair(address="和平路８号2单元", caller_name="李四", phone="13900139000"),
            headers=AGENT,
        )
        body = r.json()
        if body.get("linked", {}) and body["linked"]["progress"] == "created":
            return body
        return None

    second = await eventually(linked)
    assert second["ticket_type"] == "consultation"
    assert second["linked"]["kind"] == "repair" and second["linked"]["ticket_id"] == repair_id
    # The order has no crew yet: the caller is told so, not that a crew is on its way.
    assert "正在为您安排抢修人员" in second["linked"]["message"]
    assert "出发" not in second["linked"]["message"]
    assert second["details"]["linked_ticket_id"] == repair_id
    assert second["details"]["script"].startswith("repair@")

    events = await tickets_events(infra_env, second["id"], expect=1)
    recorded = events[0].payload()
    assert recorded.ticket_type == "consultation" and recorded.linked_ticket_id == repair_id

    # Once the order's arrival clock starts (here: it comes to stand for itself, and dispatch
    # says the deadline with it), a caller hears when to expect the crew.
    due = datetime(2030, 1, 1, 3, 45, tzinfo=UTC)  # 11:45 in Shanghai
    await publish(
        infra_env["kafka_bootstrap_servers"],
        infra_env["kafka_topic_prefix"],
        WorkOrderPromotedV2(
            work_order_id="wo-1",
            ticket_id=repair_id,
            unit_id="unit-1",
            area_class="urban",
            reported_at=NOW,
            promoted_at=NOW,
            reason="incident_cancelled",
            arrive_by=due,
        ),
    )

    async def with_eta():
        r = await client.post(
            "/tickets",
            json=repair(address="和平路8号 2单元", caller_name="王五", phone="13900139001"),
            headers=AGENT,
        )
        message = (r.json().get("linked") or {}).get("message", "")
        return "抢修人员预计11:45前到达现场" in message and message

    await eventually(with_eta)

    # Once the crew returns the order the fault is fixed: a new call there is a new repair.
    await publish(
        infra_env["kafka_bootstrap_servers"],
        infra_env["kafka_topic_prefix"],
        WorkOrderReturnedV1(
            work_order_id="wo-1",
            ticket_id=repair_id,
            unit_id="unit-1",
            returned_at=NOW + timedelta(hours=1),
            resolution="repaired",
        ),
    )

    async def new_repair():
        r = await client.post("/tickets", json=repair(description="又停电了"), headers=AGENT)
        return r.json() if r.json()["ticket_type"] == "repair" else None

    assert (await eventually(new_repair))["linked"] is None


async def test_an_outage_update_naming_only_the_tickets_it_adds_links_them_to_the_incident(
    client, infra_env
):
    """Dispatch's v2 update names the tickets it adds, not all of them: a repair it names is
    held by the incident, and a repeat call there hears of the outage."""
    first = await client.post(
        "/tickets", json=repair(address="解放路 3 号", meter_no="M-V2-1"), headers=AGENT
    )
    repair_id = first.json()["id"]
    restore_at = NOW + timedelta(hours=4)
    for event in (
        OutageDeclaredV1(
            incident_id="inc-v2", declared_at=NOW, unit_id="unit-1", status="suspected"
        ),
        OutageUpdatedV2(incident_id="inc-v2", updated_at=NOW, added_ticket_ids=["t-other"]),
        OutageUpdatedV2(
            incident_id="inc-v2",
            updated_at=NOW,
            added_ticket_ids=[repair_id],
            expected_restore_at=restore_at,
            status="confirmed",
        ),
    ):
        await publish(infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"], event)

    async def held():
        r = await client.post(
            "/tickets",
            json=repair(address="解放路3号", caller_name="李四", phone="13900139002"),
            headers=AGENT,
        )
        linked = r.json().get("linked") or {}
        return linked if linked.get("incident_id") == "inc-v2" else None

    linked = await eventually(held)
    assert linked["ticket_id"] == repair_id and linked["progress"] == "outage_declared"
    assert datetime.fromisoformat(linked["expected_restore_at"]) == restore_at


async def test_repair_under_an_outages_equipment_is_linked_with_the_expected_restoration(
    client, infra_env
):
    restore_at = NOW + timedelta(hours=3)
    before = await client.post(
        "/tickets",
        json=repair(address="建设路1号", area_code="TA-9", meter_no="M-TA9-1"),
        headers=AGENT,
    )
    assert before.json()["ticket_type"] == "repair"  # no outage known yet
    await publish(
        infra_env["kafka_bootstrap_servers"],
        infra_env["kafka_topic_prefix"],
        OutageDeclaredV1(
            incident_id="inc-9",
            declared_at=NOW,
            unit_id="unit-1",
            area_codes=["TA-9"],
            area_names=["建设新村"],
            meter_nos=[f"M-TA9-{i}" for i in range(100, 10_000)],
            expected_restore_at=restore_at,
        ),
    )

    tries = iter(range(100, 10_000))

    async def linked():
        # A fresh address and meter each time, so only the outage (not an earlier try) can link it.
        n = next(tries)
        r = await client.post(
            "/tickets",
            json=repair(address=f"建设路{n}号", area_code="TA-9", meter_no=f"M-TA9-{n}"),
            headers=AGENT,
        )
        return r.json() if r.json().get("linked") else None

    ticket = await eventually(linked)
    assert ticket["ticket_type"] == "consultation"
    assert ticket["linked"]["kind"] == "outage" and ticket["linked"]["incident_id"] == "inc-9"
    assert datetime.fromisoformat(ticket["linked"]["expected_restore_at"]) == restore_at
    assert "预计" in ticket["linked"]["message"]

    # The same area, but a meter the faulty equipment does not feed: a repair with its own crew.
    elsewhere = await client.post(
        "/tickets",
        json=repair(address="建设路2号", area_code="TA-9", meter_no="M-OTHER-1"),
        headers=AGENT,
    )
    assert elsewhere.json()["ticket_type"] == "repair" and elsewhere.json()["linked"] is None

    # The greeting announces the outage first for a caller from that area (known through the directory).
    imported = await client.post(
        "/customers/import",
        headers=SYSTEM,
        json={
            "customers": [
                {
                    "customer_id": "cu-1",
                    "name": "王五",
                    "phones": ["13700137000"],
                    "address": "建设路5号",
                    "area_code": "TA-9",
                    "sensitive": True,
                }
            ]
        },
    )
    assert imported.status_code == 200, imported.text
    switch = bearer(Role.INTEGRATION, subject="cti")
    rang = datetime(
        2026, 9, 25, 10, 0, tzinfo=UTC
    )  # Mid-Autumn 2026 (lunar 8/15), 18:00 in Shanghai
    assert (
        await client.post(
            "/cti/events",
            headers=switch,
            json={
                "event": "newCall",
                "callId": "g-1",
                "callerNumber": "13700137000",
                "calledNumber": "95598",
                "queue": "q",
                "timestamp": rang.isoformat(),
            },
        )
    ).status_code == 200
    greeting = (await client.get("/greetings", params={"call_id": "g-1"}, headers=AGENT)).json()
    assert greeting["festival"] == "mid_autumn" and "中秋快乐" in greeting["opening"]
    assert "1024号" in greeting["opening"]
    # The area by its name, not its code; no cause known yet: "因故障".
    assert "建设新村因故障停电" in greeting["announcements"][0]
    assert "TA-9" not in greeting["announcements"][0]
    assert greeting["prompts"][0]["situation"] == "outage_known"

    card = (await client.get("/calls/g-1/caller-card", headers=AGENT)).json()
    assert card["customers"][0]["customer_id"] == "cu-1"
    assert card["active_outages"][0]["incident_id"] == "inc-9"
    assert (
        card["flags"]["sensitive_customer"] is True and card["flags"]["harassing_number"] is False
    )


async def test_caller_card_lists_open_and_recent_tickets_and_repeat_caller(client):
    number = "13600136000"
    await client.post(
        "/tickets",
        headers=AGENT,
        json={
            "ticket_type": "consultation",
            "description": "电费怎么算",
            "caller_name": "赵六",
            "phone": number,
        },
    )
    card = (await client.get(f"/caller-cards/{number}", headers=AGENT)).json()
    assert len(card["open_tickets"]) == 1 and len(card["recent_tickets"]) == 1
    assert card["flags"]["repeat_caller"] is True
    assert (await client.get("/caller-cards/13100000000", headers=AGENT)).json()["flags"][
        "repeat_caller"
    ] is False


async def test_consultation_completed_then_reopened_by_callback(client, infra_env):
    created = (
        await client.post(
            "/tickets",
            headers=AGENT,
            json={
                "ticket_type": "consultation",
                "description": "峰谷电价",
                "caller_name": "钱七",
                "phone": "13500135000",
            },
        )
    ).json()
    rude = await client.post(
        f"/tickets/{created['id']}/complete", headers=AGENT, json={"reply": "这个不归我们管"}
    )
    assert rude.status_code == 422 and rude.json()["phrases"]
    assert (await client.get(f"/tickets/{created['id']}", headers=AGENT)).json()[
        "status"
    ] == "recorded"
    done = await client.post(
        f"/tickets/{created['id']}/complete", headers=AGENT, json={"reply": "已为您解答"}
    )
    assert done.status_code == 200 and done.json()["status"] == "completed"

    await publish(
        infra_env["kafka_bootstrap_servers"],
        infra_env["kafka_topic_prefix"],
        ReopenRequestedV1(
            ticket_id=created["id"],
            task_id="t-1",
            origin="intake",
            reason="unsatisfied",
            requested_at=NOW,
        ),
    )

    async def reopened():
        return (await client.get(f"/tickets/{created['id']}", headers=AGENT)).json()[
            "status"
        ] == "reopened"

    await eventually(reopened)
    types = [e.type for e in await tickets_events(infra_env, created["id"], expect=3)]
    assert types == [
        "brightline.intake.ticket.recorded.v2",
        "brightline.intake.ticket.completed.v2",
        "brightline.intake.ticket.reopened.v1",
    ]


async def test_repair_cannot_be_completed_at_intake(client):
    created = (
        await client.post("/tickets", json=repair(address="无关路1号"), headers=AGENT)
    ).json()
    response = await client.post(
        f"/tickets/{created['id']}/complete", headers=AGENT, json={"reply": "已为您解答。"}
    )
    assert response.status_code == 409


async def count(app, table):
    async with app.state.runtime.engine.connect() as conn:
        return await conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))
