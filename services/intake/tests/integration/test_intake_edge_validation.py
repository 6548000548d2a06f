"""Times from the edge are checked where they enter (issue 15 point 11): a CTI answer or hangup
before its ring, a fault time without a timezone offset, or times years away get 422 naming the
field, and nothing is written."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, running

pytestmark = pytest.mark.integration

SWITCH = bearer(Role.INTEGRATION, subject="cti-switch")
AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024")


@pytest.fixture
async def client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield client


def fields(response) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in response.json()["errors"]}


async def test_answer_or_hangup_before_the_ring_is_refused(client):
    rang = datetime.now(UTC) - timedelta(minutes=5)
    ring = {
        "event": "newCall",
        "callId": "e-1",
        "callerNumber": "13900000009",
        "calledNumber": "95598",
        "queue": "q",
        "timestamp": rang.isoformat(),
    }
    assert (await client.post("/cti/events", json=ring, headers=SWITCH)).status_code == 200
    early = {
        "event": "answer",
        "callId": "e-1",
        "agentExtension": "8001",
        "timestamp": (rang - timedelta(seconds=30)).isoformat(),
    }
    assert fields(await client.post("/cti/events", json=early, headers=SWITCH)) == {"timestamp"}
    hangup = {
        "event": "hangup",
        "callId": "e-1",
        "timestamp": (rang - timedelta(seconds=1)).isoformat(),
    }
    assert fields(await client.post("/cti/events", json=hangup, headers=SWITCH)) == {"timestamp"}
    call = (await client.get("/calls/e-1", headers=AGENT)).json()
    assert call["state"] == "ringing" and call["answered_at"] is None  # nothing written
    # The right order still goes through afterwards (the refused events were not kept as seen).
    early["timestamp"] = (rang + timedelta(seconds=8)).isoformat()
    ok = await client.post("/cti/events", json=early, headers=SWITCH)
    assert ok.status_code == 200 and ok.json()["call"]["answer_delay_seconds"] == 8.0


async def test_switch_times_years_away_are_refused(client):
    for at in ("2016-03-02T09:00:00+08:00", "2036-03-02T09:00:00+08:00", "2026-03-02T09:00:00"):
        body = {"event": "hangup", "callId": "e-2", "timestamp": at}
        assert fields(await client.post("/cti/events", json=body, headers=SWITCH)) == {"timestamp"}
    assert (await client.get("/calls/e-2", headers=AGENT)).status_code == 404


async def test_fault_time_needs_an_offset_and_a_plausible_date(client):
    repair = {
        "ticket_type": "repair",
        "description": "整栋楼停电",
        "caller_name": "张三",
        "phone": "13800138000",
        "address": "XX路9号",
        "fault_scope": "building",
    }
    naive = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="minutes")
    for bad in (naive, "2019-06-01T08:00:00+08:00", "2031-06-01T08:00:00+08:00"):
        r = await client.post("/tickets", json={**repair, "fault_started_at": bad}, headers=AGENT)
        assert fields(r) == {"fault_started_at"}, bad
    assert (await client.get("/tickets", headers=AGENT)).json() == []
    good = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    r = await client.post("/tickets", json={**repair, "fault_started_at": good}, headers=AGENT)
    assert r.status_code == 201, r.text


async def test_an_appointment_is_for_an_hour_still_to_come_or_under_way(client):
    """An agreed hour (预约) that has ended, one a typo put years away or one without an offset
    is refused naming appointment_at; the SLA monitor would have opened a clock breached at once,
    or one nobody reaches."""
    request = {
        "ticket_type": "service_request",
        "description": "预约上门检查表计",
        "caller_name": "张三",
        "phone": "13800138000",
        "address": "XX路9号",
        "service_subtype": "appointment",
    }
    now = datetime.now(UTC).replace(microsecond=0)
    ended = now - timedelta(hours=1, minutes=1)
    naive = (now + timedelta(days=1)).replace(tzinfo=None)
    for bad in (ended, naive, now - timedelta(days=3), now + timedelta(days=120)):
        r = await client.post(
            "/tickets", json={**request, "appointment_at": bad.isoformat()}, headers=AGENT
        )
        assert fields(r) == {"appointment_at"}, bad
    ended_message = (
        await client.post(
            "/tickets", json={**request, "appointment_at": ended.isoformat()}, headers=AGENT
        )
    ).json()["errors"][0]["message"]
    assert "the agreed hour ended at" in ended_message
    assert (await client.get("/tickets", headers=AGENT)).json() == []
    # The hour under way (started 50 minutes ago) and next month's are booked.
    for good in (now - timedelta(minutes=50), now + timedelta(days=30)):
        r = await client.post(
            "/tickets", json={**request, "appointment_at": good.isoformat()}, headers=AGENT
        )
        assert r.status_code == 201, r.text
