"""Recording tickets over HTTP against the real database and broker."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7")
REPAIR = {
    "ticket_type": "repair",
    "description": "整栋楼停电",
    "caller_name": "张三",
    "phone": "13800138000",
    "address": "XX路1号",
    "fault_scope": "building",
    # Required of every repair; a caller's time sits near now (never in the future).
    "fault_started_at": (datetime.now(UTC) - timedelta(minutes=20)).isoformat(),
}


@pytest.fixture
async def client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield client


async def test_records_a_repair_ticket_with_first_ask_owner(client):
    created = await client.post("/tickets", json=REPAIR, headers=AGENT)
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["first_ask_owner"] == "agent-7"
    fetched = await client.get(f"/tickets/{ticket['id']}", headers=AGENT)
    assert fetched.json()["no"] == ticket["no"]


CONSULTATION = {
    "ticket_type": "consultation",
    "description": "峰谷电价怎么算",
    "caller_name": "张三",
    "phone": "13800138000",
}


# A repair's key is claimed with its address lock (idempotency.riding); a consultation's by
# its first statement's own claim, made just before it.
@pytest.mark.parametrize("body", [REPAIR, CONSULTATION], ids=["repair", "consultation"])
async def test_idempotency_key_replays_the_first_response(client, body):
    headers = {**AGENT, "Idempotency-Key": "k-1"}
    first = await client.post("/tickets", json=body, headers=headers)
    assert first.status_code == 201, first.text
    second = await client.post("/tickets", json=body, headers=headers)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    reused = await client.post("/tickets", json={**body, "description": "other"}, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    mine = (await client.get("/tickets", headers=AGENT)).json()
    assert [t["id"] for t in mine] == [first.json()["id"]]  # one ticket, whatever was retried


async def test_missing_fields_are_named_and_nothing_is_written(client):
    response = await client.post(
        "/tickets", json={"ticket_type": "repair", "description": "停电"}, headers=AGENT
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == {
        "caller_name",
        "phone",
        "address",
        "fault_scope",
        "fault_started_at",
    }


async def test_requires_an_agent_token(client):
    assert (await client.post("/tickets", json=REPAIR)).status_code == 401
    crew = bearer(Role.CREW, subject="crew-1")
    assert (await client.post("/tickets", json=REPAIR, headers=crew)).status_code == 403


async def test_ticket_number_carries_the_business_day_not_the_utc_day(client, monkeypatch):
    """01:30 Beijing time on 3 March is 17:30 UTC on 2 March: the 工单号 says 20260303."""
    from brightline.intake import handlers

    monkeypatch.setattr(handlers, "now", lambda: datetime(2026, 3, 2, 17, 30, tzinfo=UTC))
    created = await client.post("/tickets", json=REPAIR, headers=AGENT)
    assert created.status_code == 201, created.text
    assert created.json()["no"].startswith("20260303"), created.json()["no"]


async def test_already_being_handled_records_a_consultation_with_the_repair_script(
    client, infra_env
):
    """Issue 15 point 10: the repair script's "already being handled" outcome records a
    consultation (it was refused with 422 because the script was not the consultation's); the
    time the power went off travels on the ticket event to dispatch."""
    from brightline.contracts.topics import INTAKE_TICKETS
    from brightline.messaging.kafka import prefixed
    from brightline.messaging.testing import events_of, read_topic
    from brightline.platform.testing import eventually

    went_off = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    linked = await client.post(
        "/tickets",
        json={
            "ticket_type": "consultation",
            "description": "再次来电询问抢修进度",
            "caller_name": "张三",
            "phone": "13800138000",
            "script": "repair@3",
        },
        headers=AGENT,
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["details"]["script"] == "repair@3"
    wrong = await client.post(
        "/tickets",
        json={"ticket_type": "praise", "description": "x", "script": "repair@3"},
        headers=AGENT,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "script"

    repair = await client.post(
        "/tickets", json={**REPAIR, "fault_started_at": went_off.isoformat()}, headers=AGENT
    )
    assert repair.status_code == 201, repair.text
    topic = prefixed(infra_env["kafka_topic_prefix"], INTAKE_TICKETS.name)

    async def recorded():
        records = await read_topic(
            infra_env["kafka_bootstrap_servers"], topic, expect=10**6, timeout=2
        )
        mine = [e for e in events_of(records) if e.subject == repair.json()["id"]]
        return mine[0] if mine else None

    event = await eventually(recorded, timeout=30)
    assert event.payload().fault_started_at == went_off


async def test_every_repair_needs_the_time_the_power_went_off(client):
    """Issue 15 a: through the script or not, and also when the call turns out to be about a
    fault already being handled (recorded as a linked consultation): 422 naming the field,
    nothing written."""
    no_time = {k: v for k, v in REPAIR.items() if k != "fault_started_at"}
    for body in (no_time, {**no_time, "script": "repair@3"}):
        r = await client.post("/tickets", json=body, headers=AGENT)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["fault_started_at"]
    assert (await client.get("/tickets", headers=AGENT)).json() == []
    first = await client.post("/tickets", json=REPAIR, headers=AGENT)
    assert first.status_code == 201, first.text
    again = await client.post("/tickets", json=no_time, headers=AGENT)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "fault_started_at"
    assert [t["id"] for t in (await client.get("/tickets", headers=AGENT)).json()] == [
        first.json()["id"]
    ]
