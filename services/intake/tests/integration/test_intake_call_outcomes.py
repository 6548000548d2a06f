"""Calls that end without a repair or case ticket leave a record (issue 15 point 4), and the
agent completes a consultation with the answer given, checked and kept (point 5): both close
at intake and announce a completion that opens their callback."""

import pytest

from brightline.contracts.sealed import DEV_PERSONAL_DATA_KEY, PersonalDataSeal
from brightline.contracts.topics import INTAKE_TICKETS
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging.kafka import prefixed
from brightline.messaging.testing import events_of, read_topic
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024", unit_id="unit-hz")


@pytest.fixture
async def client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield client


async def events_for(infra_env, ticket_id: str, expect: int) -> list:
    name = prefixed(infra_env["kafka_topic_prefix"], INTAKE_TICKETS.name)

    async def mine():
        records = await read_topic(
            infra_env["kafka_bootstrap_servers"], name, expect=10**6, timeout=2
        )
        found = [e for e in events_of(records) if e.subject == ticket_id]
        return found if len(found) >= expect else None

    return await eventually(mine, timeout=30)


CALLER = {"caller_name": "张三", "phone": "13800138000", "address": "XX路1号"}


async def test_paid_service_referral_is_recorded_closed_and_called_back(client, infra_env):
    r = await client.post(
        "/call-outcomes",
        json={
            "outcome": "paid_service_referral",
            "description": "家中插座冒烟跳闸，表后线路故障",
            "fault_scope": "own_home",
            **CALLER,
        },
        headers=AGENT,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    ticket = body["ticket"]
    assert ticket["ticket_type"] == "consultation" and ticket["status"] == "completed"
    assert ticket["details"]["call_outcome"] == "paid_service_referral"
    assert ticket["details"]["reported_as"] == "repair"
    # The fee standard and the contact number come from the rules data, said before hanging up.
    assert "95598" in body["say"] and "按省级价格主管部门核定标准收费" in body["say"]
    assert ticket["details"]["answer"] == body["say"]
    assert body["callback_due"] is True

    events = await events_for(infra_env, ticket["id"], expect=2)
    assert [e.type for e in events] == [
        "brightline.intake.ticket.recorded.v2",
        "brightline.intake.ticket.completed.v2",
    ]
    assert events[0].data["call_outcome"] == "paid_service_referral"
    done = events[1].data
    assert done["callback_due"] is True and done["unit_id"] == "unit-hz"
    assert done["answer"] == body["say"] and "13800138000" not in str(done)
    # The number to call back travels sealed, for the services holding the key.
    assert PersonalDataSeal(DEV_PERSONAL_DATA_KEY).open(done["phone"]) == "13800138000"
    # Closed: not in the agent's open list, so never handed over.
    open_list = await client.get("/tickets", params={"open": "true"}, headers=AGENT)
    assert open_list.json() == []


async def test_self_check_and_answered_on_spot_are_recorded_and_unknown_outcomes_refused(client):
    for outcome in ("resolved_on_call", "answered_on_spot"):
        r = await client.post(
            "/call-outcomes",
            json={"outcome": outcome, "description": "查询", **CALLER},
            headers=AGENT,
        )
        assert r.status_code == 201, r.text
        assert r.json()["ticket"]["details"]["call_outcome"] == outcome
    bad = await client.post(
        "/call-outcomes", json={"outcome": "hung_up", "description": "x"}, headers=AGENT
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "outcome"
    rude = await client.post(
        "/call-outcomes",
        json={"outcome": "answered_on_spot", "description": "x", "answer": "这个不归我们管"},
        headers=AGENT,
    )
    assert rude.status_code == 422 and rude.json()["errors"][0]["field"] == "answer"
    assert len((await client.get("/tickets", headers=AGENT)).json()) == 2  # nothing more written


async def test_consultation_is_completed_with_its_answer_kept(client, infra_env):
    created = (
        await client.post(
            "/tickets",
            json={"ticket_type": "consultation", "description": "峰谷电价怎么算", **CALLER},
            headers=AGENT,
        )
    ).json()
    missing = await client.post(f"/tickets/{created['id']}/complete", json={}, headers=AGENT)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reply"
    answer = "峰时段为8:00至22:00，其余为谷时段，已为您详细说明。"
    done = await client.post(
        f"/tickets/{created['id']}/complete", json={"reply": answer}, headers=AGENT
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["details"]["answer"] == answer
    events = await events_for(infra_env, created["id"], expect=2)
    assert events[-1].data["answer"] == answer and events[-1].data["callback_due"] is True
