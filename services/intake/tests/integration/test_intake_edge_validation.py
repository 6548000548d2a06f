"""Times from the edge are checked where they enter (issue 15 point 11): a CTI answer or hangup
before its ring, a fault time without a timezone offset, or times years away get 422 naming the
field, and nothing is written.

Blank and meaningless input is refused there too: a directory search for spaces alone, CTI events
with blank ids, queues or a number without digits, customer imports with blank ids or names and
phones without digits. The directory keeps phones normalised, so a number imported as
"+86 138-1111-0002" is the caller 13811110002 on the card."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from brightline.intake.adapters.repository import DirectoryRepository
from brightline.intake.main import SERVICE_DIR, create_app
from brightline.intake.settings import IntakeSettings
from brightline.platform.auth import Role
from brightline.platform.db import session_factory
from brightline.platform.migrations import alembic_config
from brightline.platform.testing import bearer, counted_database, running

pytestmark = pytest.mark.integration

SWITCH = bearer(Role.INTEGRATION, subject="cti-switch")
SYSTEM = bearer(Role.INTEGRATION, subject="customer-system")
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


def new_call(call_id: str, **overrides) -> dict:
    return {
        "event": "newCall",
        "callId": call_id,
        "timestamp": datetime.now(UTC).isoformat(),
        "callerNumber": "13800000001",
        "calledNumber": "95598",
        "queue": "general",
        **overrides,
    }


async def imported(client, *customers: dict):
    return await client.post(
        "/customers/import", json={"customers": list(customers)}, headers=SYSTEM
    )


async def test_a_search_for_spaces_is_refused_not_the_whole_directory(client):
    response = await imported(
        client,
        {"customer_id": "cu-s1", "name": "王五", "address": "幸福里1号"},
        {"customer_id": "cu-s2", "name": "赵六", "address": "幸福里2号"},
    )
    assert response.status_code == 200, response.text
    for q in ("   ", "\u3000\u3000\u3000", " a ", "\u3000王"):
        response = await client.get("/customers", params={"q": q}, headers=AGENT)
        assert fields(response) == {"query.q"}, q
    # Spaces around two characters or more are still a search.
    found = await client.get("/customers", params={"q": "\u3000王五 "}, headers=AGENT)
    assert found.status_code == 200, found.text
    assert [c["customer_id"] for c in found.json()] == ["cu-s1"]


async def test_cti_events_with_blank_or_digitless_values_are_refused(client):
    for call_id, body, refused in (
        ("probe-c1", new_call("probe-c1", callerNumber="---"), {"callerNumber"}),
        ("probe-c2", new_call("probe-c2", callerNumber="+1-2"), {"callerNumber"}),
        (
            "probe-c3",
            new_call("probe-c3", calledNumber="  ", queue="\u3000"),
            {"calledNumber", "queue"},
        ),
        ("   ", new_call("   "), {"callId"}),
    ):
        response = await client.post("/cti/events", json=body, headers=SYSTEM)
        assert fields(response) == refused, body
        assert (await client.get(f"/calls/{call_id}", headers=AGENT)).status_code == 404

    # What switches send still goes through: a number with a + or dashes, a padded queue, and
    # "" for a field an event has nothing for (absent, as before).
    ok = await client.post(
        "/cti/events",
        json=new_call("c-ok", callerNumber="+86-138-0000-0001", queue=" 95598-repair "),
        headers=SYSTEM,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["call"]["queue"] == "95598-repair"
    hangup = {
        "event": "hangup",
        "callId": "c-ok",
        "timestamp": datetime.now(UTC).isoformat(),
        "queue": "",
        "calledNumber": " ",
    }
    ended = await client.post("/cti/events", json=hangup, headers=SYSTEM)
    assert ended.status_code == 200, ended.text
    assert ended.json()["call"]["queue"] == "95598-repair"

    # An agent's ticket is held to the same: "---" is no number to call back.
    repair = {
        "ticket_type": "repair",
        "description": "整栋楼停电",
        "caller_name": "张三",
        "phone": "---",
        "address": "XX路9号",
        "fault_scope": "building",
    }
    assert fields(await client.post("/tickets", json=repair, headers=AGENT)) == {"phone"}
    assert (await client.get("/tickets", headers=AGENT)).json() == []


async def test_an_import_with_blank_ids_names_or_digitless_phones_changes_nothing(client):
    cases = (
        (
            {"customer_id": "probe-cu2", "name": "Probe Two", "phones": ["13811110002", "abc"]},
            {"customers.0.phones.1"},
        ),
        (
            {"customer_id": "probe-cu2", "name": "Probe Two", "phones": ["   ", "( )-"]},
            {"customers.0.phones.0", "customers.0.phones.1"},
        ),
        ({"customer_id": "   ", "name": "Probe"}, {"customers.0.customer_id"}),
        ({"customer_id": "probe-cu2", "name": "\u3000 "}, {"customers.0.name"}),
    )
    for customer, refused in cases:
        assert fields(await imported(client, customer)) == refused, customer
    assert (await client.get("/customers/probe-cu2/caller-card", headers=AGENT)).status_code == 404
    for number in ("abc", "   "):
        card = await client.get(f"/caller-cards/{number}", headers=AGENT)
        assert card.status_code == 200 and card.json()["customers"] == [], number


async def test_directory_phones_are_kept_normalised_and_match_the_caller(client):
    response = await imported(
        client,
        {
            "customer_id": "probe-cu3",
            "name": " Probe Three ",
            "phones": ["+86 138-1111-0002", "(0571) 8888-0002", "13811110002"],
            "area_code": "PR-1",
        },
    )
    assert response.status_code == 200, response.text
    found = (await client.get("/customers", params={"q": "probe-cu3"}, headers=AGENT)).json()
    assert [(c["name"], c["phones"]) for c in found] == [
        ("Probe Three", ["057188880002", "13811110002"])
    ]
    rang = await client.post(
        "/cti/events", json=new_call("c-norm", callerNumber="13811110002"), headers=SYSTEM
    )
    assert rang.status_code == 200, rang.text
    card = (await client.get("/calls/c-norm/caller-card", headers=AGENT)).json()
    assert [c["customer_id"] for c in card["customers"]] == ["probe-cu3"]
    # However the number is written where it is looked up.
    for number in ("+8613811110002", "138-1111-0002", "0571-8888-0002"):
        card = (await client.get(f"/caller-cards/{number}", headers=AGENT)).json()
        assert [c["customer_id"] for c in card["customers"]] == ["probe-cu3"], number


async def test_phones_stored_before_are_normalised_by_the_migration(postgres_server, db_name):
    async with counted_database(postgres_server, db_name("intake"), SERVICE_DIR) as engine:
        config = alembic_config(SERVICE_DIR, engine.url.render_as_string(hide_password=False))
        await asyncio.to_thread(command.downgrade, config, "0017")
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO customers (customer_id, name, sensitive, updated_at) VALUES "
                    "('cu-old', '旧', false, now()), ('cu-plain', '新', false, now())"
                )
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO customer_phones (customer_id, phone) VALUES "
                    "('cu-old', '+86 138-1111-0002'), ('cu-old', '13811110002'), "
                    "('cu-old', '0571-8888-0002'), ('cu-old', 'abc'), "
                    "('cu-plain', '13900000011')"
                )
            )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.text(
                        "SELECT customer_id, phone FROM customer_phones ORDER BY customer_id, phone"
                    )
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("cu-old", "057188880002"),
            ("cu-old", "13811110002"),
            ("cu-plain", "13900000011"),
        ]
        async with session_factory(engine)() as session, session.begin():
            directory = DirectoryRepository(session)
            assert [c.customer_id for c in await directory.by_phone("0571-8888-0002")] == ["cu-old"]
