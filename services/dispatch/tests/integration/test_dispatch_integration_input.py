"""What other utility systems send dispatch (units, areas, crews, topology, outages, planned
outages, tracker fixes): an id or name of spaces, a unit nobody put, a misspelt key or a meter
under a transformer never imported is refused with 422 naming the field, and nothing changes."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dispatch_helpers import INTEGRATION, SUPERVISOR

pytestmark = pytest.mark.integration


def refused(response, *fields: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == list(fields), response.text


def planned(**fields) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    body = {
        "id": f"po-{uuid.uuid4().hex[:8]}",
        "area_codes": ["unit-n-01"],
        "starts_at": (now + timedelta(days=10)).isoformat(),
        "ends_at": (now + timedelta(days=10, hours=1)).isoformat(),
        "announced_at": (now - timedelta(hours=1)).isoformat(),
        "reason": "10kV线路检修",
    }
    return {**body, **fields}


async def test_ids_codes_and_names_of_spaces_are_refused_naming_the_field(client):
    blank = [
        ("PUT", "/units/%20%20", {"name": "城区抢修"}, ["path.unit_id"]),
        ("PUT", "/units/unit-blank", {"name": "   "}, ["name"]),
        ("PUT", "/crews/%20", {"unit_id": "unit-n", "name": "x"}, ["path.crew_id"]),
        ("PUT", "/crews/crew-blank", {"unit_id": "   ", "name": "x"}, ["unit_id"]),
        ("PUT", "/crews/crew-blank", {"unit_id": "unit-n", "name": "\u3000"}, ["name"]),
        ("PUT", "/crews/unit-n-crew-a/members/%20", {"name": "x"}, ["path.member_id"]),
        (
            "PUT",
            "/service-areas",
            {"areas": [{"area_code": "  ", "unit_id": "unit-n", "area_class": "urban"}]},
            ["areas.0.area_code"],
        ),
        (
            "PUT",
            "/service-areas",
            {
                "areas": [
                    {
                        "area_code": "A-blank",
                        "unit_id": "unit-n",
                        "area_class": "urban",
                        "name": " ",
                    }
                ]
            },
            ["areas.0.name"],
        ),
        (
            "PUT",
            "/topology",
            {"transformers": [{"transformer_id": "   ", "feeder_id": "  "}]},
            ["transformers.0.transformer_id", "transformers.0.feeder_id"],
        ),
        (
            "PUT",
            "/topology",
            {
                "transformers": [{"transformer_id": "T-blank"}],
                "meters": [{"meter_no": " ", "transformer_id": "T-blank"}],
            },
            ["meters.0.meter_no"],
        ),
        ("POST", "/outages", {"unit_id": "   ", "feeder_id": "   "}, ["unit_id", "feeder_id"]),
        ("POST", "/outages", {"unit_id": "unit-n", "transformer_id": " "}, ["transformer_id"]),
        ("POST", "/planned-outages", planned(id="   "), ["id"]),
        (
            "POST",
            "/planned-outages",
            planned(area_codes=["", "   ", "unit-n-01"]),
            ["area_codes.0", "area_codes.1"],
        ),
        # The repeat was dropped without a word: the sender decides what it meant.
        (
            "POST",
            "/planned-outages",
            planned(area_codes=["unit-n-01", "unit-n-01"]),
            ["area_codes"],
        ),
        (
            "POST",
            "/planned-outages",
            planned(important_customer_ids=["", "3300000001"]),
            ["important_customer_ids.0"],
        ),
        ("POST", "/supply-interruptions/%20/restored", {}, ["path.interruption_id"]),
        (
            "POST",
            "/supply-interruptions/si-1/cause-removed",
            {"area_codes": ["unit-n-01", " "]},
            ["area_codes.1"],
        ),
    ]
    for method, path, body, fields in blank:
        refused(await client.request(method, path, json=body, headers=INTEGRATION), *fields)

    units = (await client.get("/units", headers=INTEGRATION)).json()
    assert not {"  ", "", "unit-blank"} & {u["unit_id"] for u in units}
    crews = (await client.get("/crews", headers=SUPERVISOR)).json()
    assert not {" ", "", "crew-blank"} & {c["crew_id"] for c in crews}
    areas = (await client.get("/service-areas", headers=INTEGRATION)).json()
    assert not {"  ", "", "A-blank"} & {a["area_code"] for a in areas}
    outages = (await client.get("/outages", headers=SUPERVISOR)).json()
    assert not [o for o in outages if o["unit_id"].strip() in ("", "unit-n")]
    assert (await client.get("/planned-outages", headers=INTEGRATION)).json() == []

    # Trimmed, what is meant is kept.
    put = await client.put("/units/%20unit-t%20", json={"name": " 西湖抢修 "}, headers=INTEGRATION)
    assert put.status_code == 200 and put.json() == {"unit_id": "unit-t", "name": "西湖抢修"}


async def test_what_belongs_to_a_unit_nobody_put_is_refused(client):
    declared = await client.post(
        "/outages", json={"unit_id": "NOPE-UNIT", "feeder_id": "F-nope"}, headers=INTEGRATION
    )
    refused(declared, "unit_id")
    assert declared.json()["type"].endswith("/unknown-unit")
    outages = (await client.get("/outages", headers=SUPERVISOR)).json()
    assert "NOPE-UNIT" not in {o["unit_id"] for o in outages}

    areas = await client.put(
        "/service-areas",
        json={
            "areas": [
                {"area_code": "NOPE-A0", "unit_id": "unit-n", "area_class": "urban"},
                {"area_code": "NOPE-A1", "unit_id": "NOPE-UNIT", "area_class": "urban"},
            ]
        },
        headers=INTEGRATION,
    )
    refused(areas, "areas.1.unit_id")
    codes = {
        a["area_code"] for a in (await client.get("/service-areas", headers=SUPERVISOR)).json()
    }
    assert not codes & {"NOPE-A0", "NOPE-A1"}  # all or nothing

    refused(
        await client.put(
            "/crews/crew-nope", json={"unit_id": "NOPE-UNIT", "name": "x"}, headers=INTEGRATION
        ),
        "unit_id",
    )
    assert (await client.get("/crews/crew-nope", headers=SUPERVISOR)).status_code == 404

    # Once the unit is put, each is taken.
    assert (
        await client.put("/units/unit-late", json={"name": "late"}, headers=INTEGRATION)
    ).status_code == 200
    assert (
        await client.put(
            "/crews/crew-late", json={"unit_id": "unit-late", "name": "x"}, headers=INTEGRATION
        )
    ).status_code == 200
    declared = await client.post(
        "/outages", json={"unit_id": "unit-late", "feeder_id": "F-late"}, headers=INTEGRATION
    )
    assert declared.status_code == 201, declared.text


async def test_topology_refuses_unknown_keys_an_empty_import_and_meters_of_no_transformer(client):
    for body, fields in (
        ({"transfomers": [{"transformer_id": "T-typo"}]}, ["transfomers"]),
        (
            {"transformers": [{"transformer_id": "T-typo", "voltage": "10kV"}]},
            ["transformers.0.voltage"],
        ),
        (
            {"meters": [{"meter_no": "M-typo", "transformer": "T-typo"}]},
            ["meters.0.transformer_id", "meters.0.transformer"],
        ),
        ({}, ["transformers", "meters"]),
        ({"transformers": [], "meters": []}, ["transformers", "meters"]),
    ):
        refused(await client.put("/topology", json=body, headers=INTEGRATION), *fields)

    # T-NEW is sent, the meter's T-NONE is not: nothing is imported, T-NEW neither.
    dangling = await client.put(
        "/topology",
        json={
            "transformers": [{"transformer_id": "T-NEW", "feeder_id": "F-1"}],
            "meters": [
                {"meter_no": "M-1", "transformer_id": "T-NEW"},
                {"meter_no": "M-2", "transformer_id": "T-NONE"},
            ],
        },
        headers=INTEGRATION,
    )
    refused(dangling, "meters.1.transformer_id")
    refused(
        await client.put(
            "/topology",
            json={"meters": [{"meter_no": "M-1", "transformer_id": "T-NEW"}]},
            headers=INTEGRATION,
        ),
        "meters.0.transformer_id",
    )

    # Transformers first, their meters in a later import: each is taken.
    for body in (
        {"transformers": [{"transformer_id": "T-NEW", "feeder_id": "F-1"}]},
        {"meters": [{"meter_no": "M-1", "transformer_id": "T-NEW"}]},
    ):
        loaded = await client.put("/topology", json=body, headers=INTEGRATION)
        assert loaded.status_code == 200, loaded.text


async def test_other_integration_bodies_refuse_unknown_keys(client):
    for method, path, body, field in (
        (
            "POST",
            "/outages",
            {"unit_id": "unit-n", "feeder_id": "F-x", "voltage": "10kV"},
            "voltage",
        ),
        (
            "PUT",
            "/service-areas",
            {
                "areas": [{"area_code": "X-1", "unit_id": "unit-n", "area_class": "urban"}],
                "mode": "replace",
            },
            "mode",
        ),
        (
            "PUT",
            "/service-areas",
            {
                "areas": [
                    {"area_code": "X-1", "unit_id": "unit-n", "area_class": "urban", "nme": "x"}
                ]
            },
            "areas.0.nme",
        ),
        ("PUT", "/units/unit-n", {"name": "x", "phone": "1"}, "phone"),
        ("PUT", "/crews/unit-n-crew-a", {"unit_id": "unit-n", "name": "x", "lead": "y"}, "lead"),
        ("PUT", "/crews/unit-n-crew-a/duty", {"on_duty": True, "shift": 1}, "shift"),
        (
            "PUT",
            "/crews/unit-n-crew-a/position",
            {"latitude": 30.1, "longitude": 120.1, "lat": 1},
            "lat",
        ),
        ("POST", "/outages/nope/restoration", {"restored": "now"}, "restored"),
    ):
        refused(await client.request(method, path, json=body, headers=INTEGRATION), field)
    outages = (await client.get("/outages", headers=SUPERVISOR)).json()
    assert "F-x" not in {o["feeder_id"] for o in outages}


async def test_an_older_tracker_fix_never_overwrites_a_newer_one(client):
    crew = "crew-gps"  # of its own: no fix yet
    put = await client.put(
        f"/crews/{crew}", json={"unit_id": "unit-n", "name": "GPS"}, headers=INTEGRATION
    )
    assert put.status_code == 200, put.text
    now = datetime.now(UTC).replace(microsecond=0)

    async def fix(latitude: float, at: datetime) -> dict:
        put = await client.put(
            f"/crews/{crew}/position",
            json={"latitude": latitude, "longitude": 120.1, "at": at.isoformat()},
            headers=INTEGRATION,
        )
        assert put.status_code == 200, put.text
        return put.json()

    newer = await fix(30.1, now)
    assert newer["latitude"] == 30.1
    # Two days late (a tracker's buffer flushed), or the same fix again: the crew stays put.
    for late in (now - timedelta(days=2), now):
        kept = await fix(31.9, late)
        assert (kept["latitude"], kept["position_at"]) == (30.1, newer["position_at"]), late
    got = (await client.get(f"/crews/{crew}", headers=SUPERVISOR)).json()
    assert got["latitude"] == 30.1
    assert (await fix(30.2, now + timedelta(seconds=1)))["latitude"] == 30.2

    missing = await client.put(
        "/crews/crew-none/position",
        json={"latitude": 30.1, "longitude": 120.1},
        headers=INTEGRATION,
    )
    assert missing.status_code == 404


async def test_ten_thousand_service_areas_are_taken_in_one_import(client):
    """The documented maximum, as a grid system names its areas: 1.2 MB, over the 1 MiB that
    other routes take."""
    areas = [
        {
            "area_code": f"BULK-{i:05d}",
            "unit_id": "unit-n",
            "area_class": "urban",
            "name": f"西湖文三片区第{i:05d}网格",
        }
        for i in range(10_000)
    ]
    content = json.dumps({"areas": areas}, ensure_ascii=False).encode()
    assert len(content) > 1024 * 1024
    imported = await client.put(
        "/service-areas",
        content=content,
        headers={**INTEGRATION, "Content-Type": "application/json"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"imported": 10_000}
