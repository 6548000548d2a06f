"""Supervisor escalation, shift handover, the audit trail, and problem+json with nothing written."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from brightline.contracts.topics import INTAKE_ESCALATIONS, INTAKE_TICKETS
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging.kafka import prefixed
from brightline.messaging.testing import events_of, read_topic
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024")
NEXT_SHIFT = bearer(Role.AGENT, subject="agent-9", staff_no="2048")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
SWITCH = bearer(Role.INTEGRATION, subject="cti")


def complaint(**over):
    return {
        "ticket_type": "complaint",
        "description": "抄表员态度恶劣",
        "caller_name": "孙八",
        "phone": "13300133000",
        "complaint_subtype": "service",
        **over,
    }


@pytest.fixture
async def app_client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield app, client


async def rows(app, table):
    async with app.state.runtime.engine.connect() as conn:
        return await conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))


async def topic_events(infra_env, topic, key, expect):
    name = prefixed(infra_env["kafka_topic_prefix"], topic.name)

    async def mine():
        records = await read_topic(
            infra_env["kafka_bootstrap_servers"], name, expect=10**6, timeout=2
        )
        found = [e for e in events_of(records) if e.subject == key]
        return found if len(found) >= expect else None

    return await eventually(mine, timeout=30)


async def test_escalation_take_over_changes_owner_and_is_audited(app_client, infra_env):
    app, client = app_client
    ticket = (await client.post("/tickets", json=complaint(), headers=AGENT)).json()
    requested = await client.post(
        "/escalations",
        headers=AGENT,
        json={
            "kind": "handover",
            "reason": "agitated",
            "ticket_id": ticket["id"],
            "note": "客户情绪激动",
        },
    )
    assert requested.status_code == 201, requested.text
    esc = requested.json()

    assert (
        await client.get("/escalations", headers=AGENT)
    ).status_code == 403  # the queue is the supervisor's
    queue = (await client.get("/escalations", headers=SUPERVISOR)).json()
    assert [e["id"] for e in queue] == [esc["id"]]

    accepted = await client.post(
        f"/escalations/{esc['id']}/resolution", headers=SUPERVISOR, json={"outcome": "accepted"}
    )
    assert accepted.json()["status"] == "accepted"
    taken = await client.post(
        f"/escalations/{esc['id']}/resolution", headers=SUPERVISOR, json={"outcome": "taken_over"}
    )
    assert taken.status_code == 200 and taken.json()["status"] == "taken_over"
    again = await client.post(
        f"/escalations/{esc['id']}/resolution", headers=SUPERVISOR, json={"outcome": "declined"}
    )
    assert again.status_code == 409

    now_owned = (await client.get(f"/tickets/{ticket['id']}", headers=AGENT)).json()
    assert now_owned["owner"] == "sup-1" and now_owned["first_ask_owner"] == "agent-7"
    assert (await client.get("/escalations", headers=SUPERVISOR)).json() == []

    trail = (
        await client.get("/audit", params={"ticket_id": ticket["id"]}, headers=SUPERVISOR)
    ).json()
    # Reading a complaint is audited too (issue 17); the owner changes are what this test follows.
    assert "ticket.read" in {a["action"] for a in trail}
    trail = [a for a in trail if a["action"] != "ticket.read"]
    actions = [a["action"] for a in trail]
    assert actions == [
        "escalation_requested",
        "escalation_accepted",
        "ticket_owner_changed",
        "escalation_taken_over",
    ]
    change = trail[2]
    assert change["actor"] == "sup-1" and change["details"]["previous_owner"] == "agent-7"
    assert change["details"]["reason"] == "takeover"

    owner_events = await topic_events(infra_env, INTAKE_TICKETS, ticket["id"], expect=2)
    changed = owner_events[-1].payload()
    assert changed.reason == "takeover" and changed.new_owner == "sup-1"
    esc_events = await topic_events(infra_env, INTAKE_ESCALATIONS, esc["id"], expect=3)
    assert [e.payload().outcome for e in esc_events[1:]] == ["accepted", "taken_over"]


async def test_a_decline_names_its_reason_which_intake_keeps_and_announces(app_client, infra_env):
    app, client = app_client
    esc = (
        await client.post("/escalations", headers=AGENT, json={"kind": "help", "reason": "complex"})
    ).json()
    url = f"/escalations/{esc['id']}/resolution"

    bare = await client.post(url, headers=SUPERVISOR, json={"outcome": "declined"})
    assert bare.status_code == 422, bare.text
    assert bare.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in bare.json()["errors"]] == ["reason"]
    blank = await client.post(url, headers=SUPERVISOR, json={"outcome": "declined", "reason": " "})
    assert blank.status_code == 422  # whitespace says nothing either
    assert (await client.get("/escalations", headers=SUPERVISOR)).json()[0]["status"] == "pending"

    declined = await client.post(
        url, headers=SUPERVISOR, json={"outcome": "declined", "reason": "政策咨询，请按知识库答复"}
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["resolution_reason"] == "政策咨询，请按知识库答复"
    kept = (await client.get("/escalations", params={"status": "all"}, headers=SUPERVISOR)).json()
    assert [(e["status"], e["resolution_reason"]) for e in kept if e["id"] == esc["id"]] == [
        ("declined", "政策咨询，请按知识库答复")
    ]
    trail = (
        await client.get("/audit", params={"escalation_id": esc["id"]}, headers=SUPERVISOR)
    ).json()
    assert trail[-1]["action"] == "escalation_declined"
    assert trail[-1]["details"]["reason"] == "政策咨询，请按知识库答复"
    events = await topic_events(infra_env, INTAKE_ESCALATIONS, esc["id"], expect=2)
    resolved = events[-1].payload()
    assert (resolved.outcome, resolved.reason) == ("declined", "政策咨询，请按知识库答复")


async def test_marking_a_number_harassing_flags_the_caller_card(app_client):
    app, client = app_client
    await client.post(
        "/cti/events",
        headers=SWITCH,
        json={
            "event": "newCall",
            "callId": "h-1",
            "callerNumber": "13200132000",
            "calledNumber": "95598",
            "queue": "q",
            "timestamp": datetime.now(UTC).isoformat(),
        },
    )
    assert (await client.get("/calls/h-1/caller-card", headers=AGENT)).json()["flags"][
        "harassing_number"
    ] is False
    esc = (
        await client.post(
            "/escalations",
            headers=AGENT,
            json={"kind": "help", "reason": "harassing", "call_id": "h-1"},
        )
    ).json()
    assert esc["caller_number"] == "13200132000"  # taken from the call record
    marked = await client.post(
        f"/escalations/{esc['id']}/resolution",
        headers=SUPERVISOR,
        json={"outcome": "marked_harassing"},
    )
    assert marked.status_code == 200
    card = (await client.get("/caller-cards/13200132000", headers=AGENT)).json()
    assert card["flags"]["harassing_number"] is True
    assert [
        a["action"]
        for a in (
            await client.get("/audit", params={"escalation_id": esc["id"]}, headers=SUPERVISOR)
        ).json()
    ] == ["escalation_requested", "escalation_marked_harassing"]


async def test_shift_handover_moves_every_open_ticket_and_leaves_none_without_owner(
    app_client, infra_env
):
    app, client = app_client
    handing = bearer(Role.AGENT, subject="agent-h")
    ids = []
    for body in (
        complaint(),
        {"ticket_type": "praise", "description": "抢修很及时"},
        {
            "ticket_type": "consultation",
            "description": "电价",
            "caller_name": "周九",
            "phone": "13100131000",
        },
    ):
        ids.append((await client.post("/tickets", json=body, headers=handing)).json()["id"])
    done = ids[2]
    await client.post(
        f"/tickets/{done}/complete", headers=handing, json={"reply": "已为您解答。"}
    )  # not open: stays put

    response = await client.post("/handovers", headers=handing, json={"to_agent": "agent-9"})
    assert response.status_code == 201, response.text
    assert sorted(response.json()["ticket_ids"]) == sorted(ids[:2])

    assert (await client.get("/tickets", params={"open": "true"}, headers=handing)).json() == []
    mine = (await client.get("/tickets", params={"open": "true"}, headers=NEXT_SHIFT)).json()
    assert sorted(t["id"] for t in mine) == sorted(ids[:2])
    async with app.state.runtime.engine.connect() as conn:
        ownerless = await conn.scalar(
            sa.text("SELECT count(*) FROM tickets WHERE owner IS NULL OR owner = ''")
        )
    assert ownerless == 0

    trail = (
        await client.get("/audit", params={"action": "ticket_owner_changed"}, headers=SUPERVISOR)
    ).json()
    handed = [a for a in trail if a["details"]["reason"] == "handover" and a["ticket_id"] in ids]
    assert len(handed) == 2 and {a["details"]["new_owner"] for a in handed} == {"agent-9"}
    events = await topic_events(infra_env, INTAKE_TICKETS, ids[0], expect=2)
    assert events[-1].payload().reason == "handover"

    # Another agent may not hand over someone else's tickets; a supervisor may.
    other = await client.post(
        "/handovers", headers=NEXT_SHIFT, json={"to_agent": "agent-x", "from_agent": "agent-7"}
    )
    assert other.status_code == 403
    to_self = await client.post("/handovers", headers=NEXT_SHIFT, json={"to_agent": "agent-9"})
    assert to_self.status_code == 422


async def test_a_shift_splits_its_open_tickets_between_colleagues(app_client):
    """Handing over the tickets named: the rest stay; one not open, or another's, moves none."""
    app, client = app_client
    splitting = bearer(Role.AGENT, subject="agent-s")
    ids = [
        (await client.post("/tickets", json=complaint(), headers=splitting)).json()["id"]
        for _ in range(3)
    ]
    theirs = (await client.post("/tickets", json=complaint(), headers=NEXT_SHIFT)).json()["id"]

    for wrong in ([ids[0], theirs], [ids[0], "no-such-ticket"], []):
        refused = await client.post(
            "/handovers", headers=splitting, json={"to_agent": "agent-x", "ticket_ids": wrong}
        )
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["ticket_ids"]
    still = (await client.get("/tickets", params={"open": "true"}, headers=splitting)).json()
    assert sorted(t["id"] for t in still) == sorted(ids)

    handed = await client.post(
        "/handovers", headers=splitting, json={"to_agent": "agent-x", "ticket_ids": ids[:2]}
    )
    assert handed.status_code == 201, handed.text
    assert sorted(handed.json()["ticket_ids"]) == sorted(ids[:2])
    rest = await client.post("/handovers", headers=splitting, json={"to_agent": "agent-9"})
    assert rest.json()["ticket_ids"] == [ids[2]]
    owners = {
        t: (await client.get(f"/tickets/{t}", headers=SUPERVISOR)).json()["owner"] for t in ids
    }
    assert owners == {ids[0]: "agent-x", ids[1]: "agent-x", ids[2]: "agent-9"}


async def test_bad_input_is_problem_json_and_writes_nothing(app_client):
    app, client = app_client
    tables = ("tickets", "outbox", "calls", "call_events", "escalations", "audit_log", "customers")
    before = {t: await rows(app, t) for t in tables}

    cases = [
        (
            "/tickets",
            {"ticket_type": "complaint", "description": "x", "phone": "13300133000"},
            AGENT,
            {"caller_name", "complaint_subtype"},
        ),
        ("/tickets", {**complaint(), "phone": "not a phone"}, AGENT, {"phone"}),
        (
            "/tickets",
            {**complaint(), "note_to_customer": "这个不归我们管，你自己去问"},
            AGENT,
            {"note_to_customer"},
        ),
        ("/tickets", {"ticket_type": "lottery", "description": "x"}, AGENT, {"ticket_type"}),
        (
            "/cti/events",
            {"event": "hangup", "callId": "z", "timestamp": "yesterday"},
            SWITCH,
            {"timestamp"},
        ),
        ("/escalations", {"kind": "help", "reason": "bored"}, AGENT, {"reason"}),
        (
            "/escalations",
            {"kind": "help", "reason": "agitated", "ticket_id": "nope"},
            AGENT,
            {"ticket_id"},
        ),
        (
            "/customers/import",
            {"customers": []},
            bearer(Role.INTEGRATION, subject="crm"),
            {"customers"},
        ),
        ("/handovers", {"to_agent": ""}, AGENT, {"to_agent"}),
    ]
    for path, body, headers, fields in cases:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert {"type", "title", "status"} <= problem.keys()
        assert fields <= {e["field"] for e in problem["errors"]}, (path, problem)

    forbidden = (
        await client.post(
            "/tickets", json={**complaint(), "note_to_customer": "这个不归我们管"}, headers=AGENT
        )
    ).json()
    assert forbidden["type"].endswith("/forbidden-phrase") and "不归我们管" in forbidden["phrases"]
    assert {t: await rows(app, t) for t in tables} == before


async def test_etiquette_check_names_the_phrase(app_client):
    _, client = app_client
    bad = (
        await client.post("/etiquette/check", json={"text": "这个不归我们管"}, headers=AGENT)
    ).json()
    assert bad["polite"] is False and bad["violations"][0]["phrase"] == "不归我们管"
    good = (
        await client.post(
            "/etiquette/check", json={"text": "请您稍等，我马上为您查询"}, headers=AGENT
        )
    ).json()
    assert good == {"polite": True, "violations": []}


async def test_script_api_walks_repair_to_paid_service_and_ticket_records_version(app_client):
    _, client = app_client
    scripts = {s["ticket_type"]: s for s in (await client.get("/scripts", headers=AGENT)).json()}
    assert len(scripts) == 8
    step = (await client.post("/scripts/repair/next", headers=AGENT, json={"answers": {}})).json()
    assert (
        step["done"] is False
        and step["key"] == "fault_scope"
        and step["script"] == scripts["repair"]["script"]
    )
    bad = await client.post(
        "/scripts/repair/next", headers=AGENT, json={"answers": {"fault_scope": "galaxy"}}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "answers.fault_scope"
    ticket = (await client.post("/tickets", json=complaint(), headers=AGENT)).json()
    assert ticket["details"]["script"] == scripts["complaint"]["script"]
