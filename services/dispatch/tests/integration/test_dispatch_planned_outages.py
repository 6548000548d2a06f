"""The outage management system's planned outages and the grid's supply facts, at the HTTP edge:
a time nobody could mean is refused with 422 naming the field, and nothing is registered."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dispatch_helpers import INTEGRATION

pytestmark = pytest.mark.integration
BEIJING = ZoneInfo("Asia/Shanghai")


def planned(**fields) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    body = {
        "id": f"po-{uuid.uuid4().hex[:8]}",
        "area_codes": ["XH-01"],
        "starts_at": (now + timedelta(days=8)).isoformat(),
        "ends_at": (now + timedelta(days=8, hours=6)).isoformat(),
        "announced_at": (now - timedelta(hours=1)).isoformat(),
        "reason": "10kV线路检修",
    }
    return {**body, **fields}


async def test_a_planned_outage_at_a_time_nobody_could_mean_is_refused_naming_its_field(client):
    now = datetime.now(UTC)
    wrong = [
        # A typo's year: callers of the area would be told of it, its notice counted to 2099.
        (
            "starts_at",
            {"starts_at": "2099-01-01T08:00:00+08:00", "ends_at": "2099-01-01T18:00:00+08:00"},
        ),
        # A season without power is not planned work: every caller would hear it is on till then.
        ("ends_at", {"ends_at": (now + timedelta(days=8 + 45)).isoformat()}),
        # No offset: whose 08:00?
        ("starts_at", {"starts_at": "2026-12-20T08:00:00"}),
        # Announced tomorrow: register it once announced.
        ("announced_at", {"announced_at": (now + timedelta(days=1)).isoformat()}),
        # A clock reset to its epoch.
        ("announced_at", {"announced_at": "1970-01-01T00:00:00+00:00"}),
    ]
    for field, fields in wrong:
        body = planned(**fields)
        refused = await client.post("/planned-outages", json=body, headers=INTEGRATION)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in refused.json()["errors"]] == [field], refused.text
        listed = await client.get("/planned-outages", headers=INTEGRATION)
        assert body["id"] not in {o["id"] for o in listed.json()}

    kept = await client.post("/planned-outages", json=planned(), headers=INTEGRATION)
    assert kept.status_code == 201, kept.text
    assert kept.json()["notice_late"] is False

    # Asking which outages end after a time: the same edge. A naive time was read as UTC (eight
    # hours off Beijing's), and year 1 east of UTC was a 500.
    for at in ("2026-12-18T13:00:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        asked = await client.get(
            "/planned-outages", params={"ending_after": at}, headers=INTEGRATION
        )
        assert asked.status_code == 422, (at, asked.text)
        assert [e["field"] for e in asked.json()["errors"]] == ["query.ending_after"]
    ending = datetime.fromisoformat(kept.json()["ends_at"])
    for at, listed in ((ending - timedelta(minutes=1), True), (ending, False)):
        asked = await client.get(
            "/planned-outages",
            params={"ending_after": at.astimezone(BEIJING).isoformat()},
            headers=INTEGRATION,
        )
        assert (kept.json()["id"] in {o["id"] for o in asked.json()}) is listed, at


async def test_a_supply_fact_from_a_clock_years_off_is_refused(client):
    for at in ("2099-01-01T00:00:00+00:00", "1970-01-01T00:00:00+00:00"):
        refused = await client.post(
            "/supply-interruptions/si-1/restored", json={"at": at}, headers=INTEGRATION
        )
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["at"]
    told = await client.post(
        "/supply-interruptions/si-1/restored",
        json={"at": datetime.now(UTC).isoformat()},
        headers=INTEGRATION,
    )
    assert told.status_code == 201, told.text
