"""'No power' calls folded into outage incidents, and a restore that finishes every linked order."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dispatch_helpers import (
    AGENT,
    INTEGRATION,
    SITE,
    SUPERVISOR,
    dispatch_events,
    publish_tickets,
    ticket,
    topology,
)

from brightline.platform.testing import eventually

pytestmark = pytest.mark.integration

CALLS = 200


async def test_200_calls_under_one_transformer_make_one_incident_and_one_restore_finishes_all(
    client,
    kafka_bootstrap,
    topic_prefix,
):
    transformer, meters = await topology(client, CALLS)

    tickets = [ticket("unit-n-01", meter_no=m, fault_scope="building") for m in meters]
    await publish_tickets(kafka_bootstrap, topic_prefix, *tickets)

    async def incident():
        found = [
            i
            for i in (await client.get("/outages", headers=SUPERVISOR)).json()
            if i["transformer_id"] == transformer
        ]
        return len(found) == 1 and len(found[0]["linked_ticket_ids"]) == CALLS and found[0]

    outage = await eventually(incident, timeout=120)
    assert set(outage["linked_ticket_ids"]) == {t.ticket_id for t in tickets}
    assert outage["feeder_id"] == f"F-{transformer}" and outage["status"] == "confirmed"
    orders = (
        await client.get(
            "/work-orders", params={"incident_id": outage["id"], "limit": 500}, headers=SUPERVISOR
        )
    ).json()
    assert len(orders) == CALLS
    # One lead order gets a crew; the linked tickets do not each send one.
    assert [o["id"] for o in orders if o["crew_id"]] == [outage["lead_work_order_id"]]
    assert sum(o["is_lead"] for o in orders) == 1

    expected = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    updated = await client.put(
        f"/outages/{outage['id']}/expected-restoration",
        json={"expected_restore_at": expected.isoformat(), "cause": "变压器故障"},
        headers=SUPERVISOR,
    )
    assert (
        updated.status_code == 200
        and datetime.fromisoformat(updated.json()["expected_restore_at"]) == expected
    )
    # A time callers could not be told: already past, or a typo's year. 422 naming the field.
    for wrong in (datetime.now(UTC) - timedelta(hours=1), datetime(2099, 1, 1, tzinfo=UTC)):
        refused = await client.put(
            f"/outages/{outage['id']}/expected-restoration",
            json={"expected_restore_at": wrong.isoformat()},
            headers=SUPERVISOR,
        )
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["expected_restore_at"]
    assert (
        await client.put(
            f"/outages/{outage['id']}/expected-restoration",
            json={"expected_restore_at": expected.isoformat()},
            headers=AGENT,
        )
    ).status_code == 403
    updates = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.data.get("incident_id") == outage["id"] and "outage.updated" in e.type,
        0,
        outages=True,
        # The notice is the incident's last update (its events keep their order).
        until=lambda seen: any(u.data.get("expected_restore_at") for u in seen),
    )
    [notice] = [u for u in updates if u.data.get("expected_restore_at")]
    assert notice.payload().expected_restore_at == expected
    # Each update names only the tickets it links (an update naming them all made an incident
    # of n reports O(n^2) bytes), every ticket once: the first the lead's, then the reports a
    # consumer batch joined to it, one update per batch (IncidentUpdates), not one per report.
    assert {u.type for u in updates} == {"brightline.dispatch.outage.updated.v2"}
    named = [t for u in updates for t in u.payload().added_ticket_ids]
    assert sorted(named) == sorted(t.ticket_id for t in tickets)
    assert len(updates) - 1 < CALLS, f"{len(updates)} updates for {CALLS} reports"
    assert notice.payload().added_ticket_ids == []

    restored = await client.post(
        f"/outages/{outage['id']}/restoration",
        json={"cause": "变压器故障"},
        headers={**SUPERVISOR, "Idempotency-Key": f"restore-{outage['id']}"},
    )
    assert restored.status_code == 200, restored.text
    assert len(restored.json()["finished_work_order_ids"]) == CALLS
    again = await client.post(f"/outages/{outage['id']}/restoration", json={}, headers=SUPERVISOR)
    assert again.status_code == 409

    after = (
        await client.get(
            "/work-orders", params={"incident_id": outage["id"], "limit": 500}, headers=SUPERVISOR
        )
    ).json()
    assert {o["status"] for o in after} == {"returned"}
    assert {o["resolution"] for o in after} == {"restored_with_outage"}

    ticket_ids = {t.ticket_id for t in tickets}
    returned = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.type.endswith("work-order.returned.v1") and e.data["ticket_id"] in ticket_ids,
        CALLS,
    )
    assert len(returned) == CALLS
    assert {e.data["ticket_id"] for e in returned} == ticket_ids
    assert {e.payload().resolution for e in returned} == {"restored_with_outage"}
    assert {e.payload().incident_id for e in returned} == {outage["id"]}
    [done] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.type.endswith("outage.restored.v1") and e.data["incident_id"] == outage["id"],
        1,
        outages=True,
    )
    assert set(done.payload().ticket_ids) == ticket_ids
    declared = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.type.endswith("outage.declared.v1") and e.data.get("transformer_id") == transformer
        ),
        1,
        outages=True,
    )
    assert len(declared) == 1


async def test_without_topology_reports_cluster_by_distance(client, kafka_bootstrap, topic_prefix):
    lat, lon = SITE[0] + 0.5, SITE[1] + 0.5  # away from every other test's incidents
    near = [
        ticket("unit-n-01", fault_scope="area", latitude=lat + d, longitude=lon)
        for d in (0, 0.001, 0.002)
    ]
    far = ticket("unit-n-01", fault_scope="area", latitude=lat + 0.1, longitude=lon)  # ~11 km north
    await publish_tickets(kafka_bootstrap, topic_prefix, *near, far)

    async def incidents():
        found = [
            i
            for i in (await client.get("/outages", headers=SUPERVISOR)).json()
            if i["transformer_id"] is None and i["latitude"] and abs(i["latitude"] - lat) < 0.2
        ]
        return sum(len(i["linked_ticket_ids"]) for i in found) == 4 and found

    found = await eventually(incidents)
    groups = sorted(sorted(i["linked_ticket_ids"]) for i in found)
    assert groups == sorted([sorted(t.ticket_id for t in near), [far.ticket_id]])


async def test_reports_fold_into_a_feeder_fault_declared_from_the_grid_side(
    client, kafka_bootstrap, topic_prefix
):
    feeder, transformers = (
        f"F-{uuid.uuid4().hex[:6]}",
        [f"T-{uuid.uuid4().hex[:6]}" for _ in range(2)],
    )
    meters = {t: [f"M-{t}-{i}" for i in range(2)] for t in transformers}
    assert (
        await client.put(
            "/topology",
            json={
                "transformers": [{"transformer_id": t, "feeder_id": feeder} for t in transformers],
                "meters": [
                    {"meter_no": m, "transformer_id": t} for t, ms in meters.items() for m in ms
                ],
            },
            headers=INTEGRATION,
        )
    ).status_code == 200
    declared = await client.post(
        "/outages",
        json={"unit_id": "unit-n", "feeder_id": feeder, "cause": "馈线跳闸"},
        headers=INTEGRATION,
    )
    assert declared.status_code == 201, declared.text
    incident_id = declared.json()["id"]
    assert (
        await client.post(
            "/outages", json={"unit_id": "unit-n", "feeder_id": feeder}, headers=SUPERVISOR
        )
    ).status_code == 409

    tickets = [
        ticket("unit-n-01", meter_no=m, fault_scope="own_home")
        for ms in meters.values()
        for m in ms
    ]
    await publish_tickets(kafka_bootstrap, topic_prefix, *tickets)

    async def folded():
        found = (await client.get(f"/outages/{incident_id}", headers=SUPERVISOR)).json()
        return len(found["linked_ticket_ids"]) == len(tickets) and found

    outage = await eventually(folded)
    orders = (
        await client.get("/work-orders", params={"incident_id": incident_id}, headers=SUPERVISOR)
    ).json()
    leads = [o for o in orders if o["is_lead"]]
    assert (
        len(leads) == 1 and leads[0]["id"] == outage["lead_work_order_id"] and leads[0]["crew_id"]
    )
    assert all(o["crew_id"] is None for o in orders if not o["is_lead"])


async def test_a_city_sized_topology_is_taken_in_one_import(client):
    """A grid import carries a whole city's meters: far more than the 1 MB of other routes."""
    transformers = [f"T-city-{k}" for k in range(100)]
    meters = [
        {"meter_no": f"M-city-{i:06d}", "transformer_id": transformers[i % 100]}
        for i in range(30_000)
    ]
    body = {
        "transformers": [{"transformer_id": t, "feeder_id": "F-city"} for t in transformers],
        "meters": meters,
    }
    assert len(json.dumps(body)) > 1024 * 1024  # over the default limit
    loaded = await client.put("/topology", json=body, headers=INTEGRATION)
    assert loaded.status_code == 200, loaded.text
