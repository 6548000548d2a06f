"""Every hand-opened deadline can be met or cancelled with a reason through the API (issue 16
point 3 and f); an input about a deadline already settled is kept on it, counted and audited,
never dropped (issue 15 b). The real service, database and broker."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from brightline.platform.auth import Role
from brightline.platform.testing import bearer, running
from brightline.sla_monitor.main import create_app
from brightline.sla_monitor.settings import SlaMonitorSettings

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-9")


@pytest.fixture
async def client(infra_env, db_name):
    settings = SlaMonitorSettings(database_name=db_name("sla"), **infra_env)
    async with running(create_app(settings)) as client:
        yield client


async def ask_to_open(client, opened_at: datetime):
    return await client.post(
        "/deadlines",
        json={
            "limit_key": "bill_query.written_reply",
            "subject_type": "ticket",
            "subject_id": f"t-{uuid.uuid4().hex[:8]}",
            "opened_at": opened_at.isoformat(),
        },
        headers=SUPERVISOR,
    )


async def open_by_hand(client, opened_at: datetime) -> dict:
    r = await ask_to_open(client, opened_at)
    assert r.status_code == 201, r.text
    return r.json()


def problem_fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


async def test_a_hand_opened_deadline_is_met_and_another_cancelled_each_with_a_reason(client):
    opened_at = datetime.now(UTC) - timedelta(hours=1)
    met = await open_by_hand(client, opened_at)
    cancelled = await open_by_hand(client, opened_at)
    for d in (met, cancelled):
        for action in ("meet", "cancel"):
            for body in ({}, {"reason": ""}):
                r = await client.post(
                    f"/deadlines/{d['id']}/{action}", json=body, headers=SUPERVISOR
                )
                assert problem_fields(r) == ["reason"], (action, body)
    # Refused: nothing changed.
    for d in (met, cancelled):
        read = (await client.get(f"/deadlines/{d['id']}", headers=SUPERVISOR)).json()
        assert read["state"] == "open" and read["late_inputs"] == []

    sent = opened_at + timedelta(minutes=30)
    r = await client.post(
        f"/deadlines/{met['id']}/meet",
        json={"reason": "书面答复已寄出", "at": sent.isoformat()},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "met" and r.json()["met_on_time"] is True
    assert datetime.fromisoformat(r.json()["closed_at"]) == sent

    r = await client.post(
        f"/deadlines/{cancelled['id']}/cancel",
        json={"reason": "客户撤回书面查询"},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled"
    assert r.json()["cancel_reason"] == "客户撤回书面查询"
    assert r.json()["late_inputs"] == []


async def test_an_input_about_a_settled_deadline_is_kept_counted_and_audited(client):
    opened_at = datetime.now(UTC) - timedelta(hours=1)
    d = await open_by_hand(client, opened_at)
    r = await client.post(
        f"/deadlines/{d['id']}/meet", json={"reason": "已答复"}, headers=SUPERVISOR
    )
    assert r.status_code == 200, r.text

    late_at = datetime.now(UTC).replace(microsecond=0)
    r = await client.post(
        f"/deadlines/{d['id']}/cancel",
        json={"reason": "重复工单", "at": late_at.isoformat()},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    read = (await client.get(f"/deadlines/{d['id']}", headers=SUPERVISOR)).json()
    assert read["state"] == "met"  # a late input changes nothing
    [late] = read["late_inputs"]
    assert (late["input"], late["state"], late["reason"], late["actor"]) == (
        "cancel",
        "met",
        "重复工单",
        "sup-9",
    )
    assert datetime.fromisoformat(late["at"]) == late_at

    metrics = (await client.get("/metrics")).text
    counted = [
        line
        for line in metrics.splitlines()
        if line.startswith("sla_late_inputs_total{")
        and 'limit_key="bill_query.written_reply"' in line
        and 'input="cancel"' in line
        and 'state="met"' in line
    ]
    assert counted and float(counted[0].rsplit(" ", 1)[1]) >= 1

    trail = (
        await client.get(
            "/audit/events",
            params={"subject": d["id"], "action": "POST /deadlines/{deadline_id}/cancel"},
            headers=SUPERVISOR,
        )
    ).json()
    assert trail and "重复工单" in json.dumps(trail[-1]["changes"], ensure_ascii=False)


async def test_a_time_no_supervisor_could_mean_is_refused_naming_its_field(client):
    """A limit opened in a typo's year, or work recorded as done next year: 422 naming the
    field, and the deadline as it was. Before, a meet dated 2099 was stored as a breach dated
    tomorrow and a close in 2099, and an opening in 2099 as a deadline nobody would see fall due."""
    now = datetime.now(UTC)
    for opened_at in (now + timedelta(days=365 * 70), now - timedelta(days=365)):
        assert problem_fields(await ask_to_open(client, opened_at)) == ["opened_at"], opened_at
    d = await open_by_hand(client, now - timedelta(hours=1))
    for action in ("meet", "cancel"):
        for at in (now + timedelta(days=365 * 70), now + timedelta(hours=1)):
            r = await client.post(
                f"/deadlines/{d['id']}/{action}",
                json={"reason": "已书面答复", "at": at.isoformat()},
                headers=SUPERVISOR,
            )
            assert problem_fields(r) == ["at"], (action, at)
    kept = (await client.get(f"/deadlines/{d['id']}", headers=SUPERVISOR)).json()
    assert kept["state"] == "open" and kept["closed_at"] is None and kept["late_inputs"] == []
    # A limit that starts later (an agreed hour next week) is opened; work done an hour ago is met.
    later = await open_by_hand(client, now + timedelta(days=7))
    assert later["state"] == "open"
    r = await client.post(
        f"/deadlines/{d['id']}/meet",
        json={"reason": "已书面答复", "at": (now - timedelta(minutes=30)).isoformat()},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200 and r.json()["met_on_time"] is True, r.text
