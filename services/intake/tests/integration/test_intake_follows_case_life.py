"""Intake's copy of a complaint follows its case: answered or closed in casework, it leaves the
agent's open list, the handover and the caller card; reopened, it is open again."""

from datetime import UTC, datetime

import pytest

from brightline.contracts.events.casework import CaseStatusChangedV1
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024")
PHONE = "13300133777"


@pytest.fixture
async def client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield client


def status_changed(ticket_id: str, status: str, previous: str) -> CaseStatusChangedV1:
    return CaseStatusChangedV1(
        case_id=f"case-{ticket_id}",
        ticket_id=ticket_id,
        case_type="complaint",
        status=status,
        previous_status=previous,
        changed_at=datetime.now(UTC),
        actor="agent-7",
    )


async def test_complaint_ticket_follows_its_case(client, infra_env):
    body = {
        "ticket_type": "complaint",
        "description": "抄表员态度恶劣",
        "caller_name": "孙八",
        "phone": PHONE,
        "complaint_subtype": "service",
    }
    ticket = (await client.post("/tickets", json=body, headers=AGENT)).json()
    tid = ticket["id"]
    bus = (infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"])

    async def status_is(wanted):
        async def check():
            t = (await client.get(f"/tickets/{tid}", headers=AGENT)).json()
            return t if t["status"] == wanted else None

        return await eventually(check, timeout=30)

    await publish(*bus, status_changed(tid, "transferred", "opened"))
    await publish(*bus, status_changed(tid, "answered", "replied"))
    answered = await status_is("answered")
    assert answered["completed_at"] is not None
    assert answered["details"]["case_status"] == "answered"

    open_list = await client.get("/tickets", params={"open": "true"}, headers=AGENT)
    assert tid not in [t["id"] for t in open_list.json()]
    card = (await client.get(f"/caller-cards/{PHONE}", headers=AGENT)).json()
    assert card["open_tickets"] == [] and card["flags"]["repeat_caller"] is False
    handed = await client.post("/handovers", json={"to_agent": "agent-9"}, headers=AGENT)
    assert handed.status_code == 201, handed.text
    assert handed.json()["ticket_ids"] == []

    # The callback found the customer unsatisfied: casework reopened it, so it is open again.
    await publish(*bus, status_changed(tid, "reopened", "answered"))
    reopened = await status_is("reopened")
    assert reopened["completed_at"] is None
    open_list = await client.get("/tickets", params={"open": "true"}, headers=AGENT)
    assert tid in [t["id"] for t in open_list.json()]

    await publish(*bus, status_changed(tid, "answered", "replied"))
    await status_is("answered")
    await publish(*bus, status_changed(tid, "closed", "answered"))
    await status_is("closed")


async def test_a_complaint_already_being_handled_is_a_linked_consultation(client, infra_env):
    """Issue 15 point 10: the repeat caller's consultation links to the open complaint (casework
    chases the case from it), closes on the spot, and leaves the callback to the case."""
    from brightline.contracts.topics import INTAKE_TICKETS
    from brightline.messaging.kafka import prefixed
    from brightline.messaging.testing import events_of, read_topic

    complaint = (
        await client.post(
            "/tickets",
            json={
                "ticket_type": "complaint",
                "description": "电费多收",
                "caller_name": "孙八",
                "phone": PHONE,
                "complaint_subtype": "business",
            },
            headers=AGENT,
        )
    ).json()
    again = await client.post(
        "/tickets",
        json={
            "ticket_type": "consultation",
            "description": "再次来电询问投诉处理进度",
            "caller_name": "孙八",
            "phone": PHONE,
            "script": "complaint@1",
            "linked_ticket_id": complaint["id"],
            "note_to_customer": "您反映的问题正在处理当中，我们会尽快给您答复，请多谅解。",
        },
        headers=AGENT,
    )
    assert again.status_code == 201, again.text
    assert again.json()["status"] == "completed"
    assert again.json()["details"]["linked_ticket_id"] == complaint["id"]
    for bad in ("no-such-ticket",):
        r = await client.post(
            "/tickets",
            json={"ticket_type": "consultation", "description": "x", "linked_ticket_id": bad},
            headers=AGENT,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "linked_ticket_id"

    topic = prefixed(infra_env["kafka_topic_prefix"], INTAKE_TICKETS.name)

    async def events():
        records = await read_topic(
            infra_env["kafka_bootstrap_servers"], topic, expect=10**6, timeout=2
        )
        mine = [e for e in events_of(records) if e.subject == again.json()["id"]]
        return mine if len(mine) >= 2 else None

    recorded, completed = await eventually(events, timeout=30)
    assert recorded.data["linked_ticket_id"] == complaint["id"]
    assert completed.data["callback_due"] is False
