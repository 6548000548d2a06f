"""What one POST /tickets costs the database, counted (never timed) through the services' own
round-trip counter (DB_COUNT_ROUND_TRIPS, the benchmark's "round trips per ticket").

A new repair with an Idempotency-Key, as the intake desk sends it: BEGIN, the key's claim, the
address lock, the lookup of what is already being handled fused with the ticket's INSERT, the
outbox rows with the stored response, the audit trail's row (its lock, the chain's last hash,
the row), COMMIT."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.platform import db
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-trips")
NEW_REPAIR_TRIPS = 9
REPEAT_CALL_TRIPS = 11  # the lookup on its own, then the linked consultation's INSERT


def repair(address: str) -> dict:
    return {
        "ticket_type": "repair",
        "description": "家中插座无电, 请派人检修",
        "caller_name": "王五",
        "phone": "13900139000",
        "address": address,
        "fault_scope": "own_home",
        "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
    }


@pytest.fixture
async def client(infra_env, db_name, monkeypatch):
    monkeypatch.setenv("DB_COUNT_ROUND_TRIPS", "1")
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        # Only the request's own statements: the relay and the retention job share the engine.
        await app.state.runtime.relay.stop()
        await app.state.runtime.retention.stop()
        yield client


async def trips_of(client, body: dict, key: str) -> tuple[int, dict]:
    before = db.ROUND_TRIPS["total"]
    response = await client.post("/tickets", json=body, headers={**AGENT, "Idempotency-Key": key})
    assert response.status_code == 201, response.text
    return db.ROUND_TRIPS["total"] - before, response.json()


async def test_a_new_repair_costs_its_fused_round_trips(client):
    await trips_of(client, repair("往返路0号"), "warm-up")  # first use: connections, caches
    trips, ticket = await trips_of(client, repair("往返路1号"), "k-1")
    assert ticket["ticket_type"] == "repair" and ticket["no"]
    assert trips == NEW_REPAIR_TRIPS


async def test_a_repeat_call_still_finds_the_repair_being_handled(client):
    _, first = await trips_of(client, repair("往返路2号"), "k-2")
    trips, repeat = await trips_of(client, repair("往返路2号"), "k-3")
    assert repeat["ticket_type"] == "consultation"
    assert repeat["details"]["linked_ticket_id"] == first["id"]
    assert trips == REPEAT_CALL_TRIPS
