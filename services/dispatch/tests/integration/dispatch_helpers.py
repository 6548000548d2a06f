"""Helpers shared by for dispatch's integration tests: a running service on the real broker and
database, a unit with crews and members, and helpers to publish tickets and read events."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer

from brightline.contracts.events.intake import TicketRecordedV1
from brightline.contracts.topics import DISPATCH_OUTAGES, DISPATCH_WORK_ORDERS
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging.kafka import prefixed
from brightline.messaging.testing import events_of, publish
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually

INTEGRATION = bearer(Role.INTEGRATION, subject="gis-1")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
AGENT = bearer(Role.AGENT, subject="agent-1")

# The incident site, and two crews: A parked 1 km away, B 10 km away.
SITE = (31.2304, 121.4737)
CREW_A_AT = (31.2394, 121.4737)
CREW_B_AT = (31.3204, 121.4737)


def dispatch_settings(
    kafka_bootstrap, postgres_server, topic_prefix, database_name=None, **overrides
):
    return DispatchSettings(
        database_name=database_name or f"test_dispatch_{uuid.uuid4().hex[:8]}",
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=postgres_server,
        kafka_topic_prefix=topic_prefix,
        log_json=False,
        **overrides,
    )


async def seed_unit(http, unit: str, *, crews=(("a", CREW_A_AT), ("b", CREW_B_AT))) -> None:
    """A unit serving area code <unit>-01, with on-duty crews <unit>-crew-<x> and one member each."""
    ok = [
        await http.put(f"/units/{unit}", json={"name": f"{unit} repair"}, headers=INTEGRATION),
        await http.put(
            "/service-areas",
            json={
                "areas": [
                    {"area_code": f"{unit}-01", "unit_id": unit, "area_class": "urban"},
                    {"area_code": f"{unit}-99", "unit_id": unit, "area_class": "remote"},
                ]
            },
            headers=INTEGRATION,
        ),
    ]
    for name, (lat, lon) in crews:
        crew = f"{unit}-crew-{name}"
        ok += [
            await http.put(
                f"/crews/{crew}",
                json={"unit_id": unit, "name": f"Crew {name}"},
                headers=INTEGRATION,
            ),
            await http.put(
                f"/crews/{crew}/members/{crew}-m1",
                json={"name": "member"},
                headers=INTEGRATION,
            ),
            await http.put(
                f"/crews/{crew}/position",
                json={"latitude": lat, "longitude": lon},
                headers=INTEGRATION,
            ),
            await http.put(f"/crews/{crew}/duty", json={"on_duty": True}, headers=SUPERVISOR),
        ]
    for response in ok:
        assert response.status_code in (200, 201), response.text


async def sign_in(http, member_id: str) -> dict:
    """A crew member's phone token: a member <unit>-crew-<x>-m1 of crew <unit>-crew-<x>, issued
    by the identity provider (the phone signs in there, never at dispatch)."""
    crew = member_id.rsplit("-m", 1)[0]
    return bearer(Role.CREW, subject=member_id, crew_id=crew, unit_id=crew.split("-crew-")[0])


def ticket(area_code: str, **fields) -> TicketRecordedV1:
    defaults = {
        "ticket_id": str(uuid.uuid4()),
        "ticket_no": f"T{uuid.uuid4().hex[:8]}",
        "ticket_type": "repair",
        "recorded_at": datetime.now(UTC),
        "first_ask_owner": "agent-1",
        "description": "停电",
        "address": "幸福路1号",
    }
    return TicketRecordedV1(**{**defaults, **fields}, area_code=area_code)


async def publish_tickets(kafka_bootstrap, topic_prefix, *tickets: TicketRecordedV1) -> None:
    await publish(kafka_bootstrap, topic_prefix, *tickets, source="/brightline/intake")


async def order_of(http, ticket_id: str, *, status: str | None = None) -> dict:
    async def check():
        found = (
            await http.get("/work-orders", params={"ticket_id": ticket_id}, headers=AGENT)
        ).json()
        return found and (status is None or found[0]["status"] == status) and found[0]

    return await eventually(check)


async def dispatch_events(
    kafka_bootstrap, topic_prefix, predicate, count: int, *, outages=False, timeout=60.0, until=None
):
    """Read dispatch's topic from the start until `count` events match, or until `until(matched)`
    holds when given (all tests share the topic)."""
    topic = prefixed(topic_prefix, (DISPATCH_OUTAGES if outages else DISPATCH_WORK_ORDERS).name)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
    )
    await consumer.start()
    matched = []
    deadline = time.monotonic() + timeout
    try:
        while (
            (not until(matched)) if until is not None else len(matched) < count
        ) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                matched += [e for e in events_of(records) if predicate(e)]
            await asyncio.sleep(0)
        # Drain what is already there, so a test can see a duplicate that should not exist.
        while batch := await consumer.getmany(timeout_ms=1000):
            for records in batch.values():
                matched += [e for e in events_of(records) if predicate(e)]
    finally:
        await consumer.stop()
    return matched


async def topology(client, meters_per_transformer: int = 4) -> tuple[str, list[str]]:
    """A transformer of its own (on feeder F-<transformer>) with its meters, put by GIS."""
    transformer = f"T-{uuid.uuid4().hex[:6]}"
    meters = [f"M-{transformer}-{i}" for i in range(meters_per_transformer)]
    loaded = await client.put(
        "/topology",
        json={
            "transformers": [{"transformer_id": transformer, "feeder_id": f"F-{transformer}"}],
            "meters": [{"meter_no": m, "transformer_id": transformer} for m in meters],
        },
        headers=INTEGRATION,
    )
    assert loaded.status_code == 200, loaded.text
    return transformer, meters
