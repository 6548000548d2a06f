"""The customer directory searched for an unknown caller (account number, part of the name or
the address) and the caller card of a call linked to the customer found."""

import uuid
from datetime import UTC, datetime

import pytest

from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024")
SYSTEM = bearer(Role.INTEGRATION, subject="customer-system")


@pytest.fixture
async def client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield client


async def test_an_unknown_caller_is_found_and_the_call_linked_to_the_customer(client):
    imported = await client.post(
        "/customers/import",
        json={
            "customers": [
                {
                    "customer_id": "3300000011",
                    "name": "王五",
                    "phones": ["057188880002", "13900000011"],
                    "address": "杭州市幸福里小区5幢1单元",
                    "area_code": "SC-01",
                },
                {
                    "customer_id": "3300000012",
                    "name": "王五六",
                    "phones": [],
                    "address": "杭州市文三路100号",
                    "area_code": "XH-01",
                },
                {
                    "customer_id": "3300000013",
                    "name": "百分_号",
                    "phones": [],
                    "address": "光明路1号",
                },
            ]
        },
        headers=SYSTEM,
    )
    assert imported.status_code == 200, imported.text

    async def found(q: str) -> list[str]:
        response = await client.get("/customers", params={"q": q}, headers=AGENT)
        assert response.status_code == 200, response.text
        return [c["customer_id"] for c in response.json()]

    assert await found("王五") == ["3300000011", "3300000012"]
    assert await found("幸福里小区5幢") == ["3300000011"]
    assert await found("3300000012") == ["3300000012"]
    # LIKE's wildcards are the caller's words, not patterns.
    assert await found("%_") == []
    assert await found("分_") == ["3300000013"]
    first = (await client.get("/customers", params={"q": "幸福里"}, headers=AGENT)).json()[0]
    assert first["phones"] == ["057188880002", "13900000011"] and first["area_code"] == "SC-01"
    short = await client.get("/customers", params={"q": "王"}, headers=AGENT)
    assert short.status_code == 422
    assert (await client.get("/customers", params={"q": "王五"})).status_code == 401

    # A call from a number the directory does not hold, linked to 王五.
    call_id = f"call-{uuid.uuid4().hex[:8]}"
    rang = await client.post(
        "/cti/events",
        json={
            "event": "newCall",
            "callId": call_id,
            "timestamp": datetime.now(UTC).isoformat(),
            "callerNumber": "13800008888",
            "calledNumber": "95598",
            "queue": "95598",
        },
        headers=SYSTEM,
    )
    assert rang.status_code == 200, rang.text
    unknown = (await client.get(f"/calls/{call_id}/caller-card", headers=AGENT)).json()
    assert unknown["customers"] == []
    linked = await client.get(
        "/customers/3300000011/caller-card", params={"call_id": call_id}, headers=AGENT
    )
    assert linked.status_code == 200, linked.text
    card = linked.json()
    assert card["caller_number"] == "13800008888" and card["call_id"] == call_id
    assert [c["name"] for c in card["customers"]] == ["王五"]
    missing = await client.get("/customers/nobody/caller-card", headers=AGENT)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "customer_id"
