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
