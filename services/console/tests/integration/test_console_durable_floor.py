"""The floor and the agent's call draft live in the console's database: two console replicas on
one database show one floor (an agent made ready through one is offered a call by either, and
the other replica's browsers hear of it), a restart keeps the floor, and the draft of the call
in hand comes back after a reload."""

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from brightline.console.settings import ConsoleSettings
from brightline.contracts.events.intake import CallRingingV1, EscalationResolvedV1
from brightline.messaging.testing import publish
from brightline.platform.testing import eventually

from .test_console_bff import _async, read_events, serving, token_of

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(infra_env, db_name):
    return ConsoleSettings(**infra_env, database_name=db_name("console"))


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_two_replicas_show_one_floor_and_a_restart_keeps_it(settings, infra_env):
    async with serving(settings) as one, serving(settings) as two:
        agent = token_of("agent-1001")
        boss = token_of("super-9001")
        seen_on_two: list[dict] = []
        reader = asyncio.create_task(read_events(two, agent, seen_on_two))
        try:
            await eventually(lambda: _async(len(seen_on_two) > 0))  # hello
            ready = await one.put("/api/desk/state", json={"state": "ready"}, headers=auth(agent))
            assert ready.status_code == 200, ready.text
            # The other replica sees the same seat, at once (no shared memory: the database).
            desk = (await two.get("/api/desk/state", headers=auth(agent))).json()
            assert desk["seat"]["state"] == "ready"
            floor = (await two.get("/api/supervisor/floor", headers=auth(boss))).json()
            assert {a["agent_id"]: a["state"] for a in floor["agents"]}["agent-1001"] == "ready"

            await publish(
                infra_env["kafka_bootstrap_servers"],
                infra_env["kafka_topic_prefix"],
                CallRingingV1(
                    call_id="call-durable-1",
                    caller_number="13912345670",
                    called_number="95598",
                    queue="95598",
                    rang_at=datetime.now(UTC),
                ),
            )
            # Both replicas consume the switch's events; the call is offered once, and the
            # agent's stream on replica two gets the offer whichever replica made it.
            offer = await eventually(
                lambda: _async(next((m for m in seen_on_two if m["kind"] == "offer"), None))
            )
            assert offer["data"]["call_id"] == "call-durable-1"
            for http in (one, two):
                desk = (await http.get("/api/desk/state", headers=auth(agent))).json()
                assert desk["seat"]["state"] == "ringing"
                assert desk["offer"]["call_id"] == "call-durable-1"
            floor = (await one.get("/api/supervisor/floor", headers=auth(boss))).json()
            assert [w["call_id"] for w in floor["waiting"]] == ["call-durable-1"]
            assert len([m for m in seen_on_two if m["kind"] == "offer"]) == 1

            # Not ready with a reason, through replica two: the call goes back to the queue.
            busy = await two.put(
                "/api/desk/state",
                json={"state": "not_ready", "reason": "meal"},
                headers=auth(agent),
            )
            seat = busy.json()["seat"]
            assert (seat["state"], seat["reason"]) == ("not_ready", "meal")
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    # A restart (both replicas gone, a new one started) shows the same floor.
    async with serving(settings) as again:
        desk = (await again.get("/api/desk/state", headers=auth(agent))).json()
        assert desk["seat"]["state"] == "not_ready" and desk["seat"]["reason"] == "meal"
        floor = (await again.get("/api/supervisor/floor", headers=auth(boss))).json()
        assert [w["call_id"] for w in floor["waiting"]] == ["call-durable-1"]


async def test_the_call_draft_survives_a_reload_and_the_escalation_outcome_reaches_the_agent(
    settings, infra_env
):
    async with serving(settings) as one, serving(settings) as two:
        agent = token_of("agent-1002")
        assert (await one.get("/api/desk/draft", headers=auth(agent))).status_code == 204
        draft = {
            "call_id": "call-draft-1",
            "data": {
                "ticketType": "complaint",
                "answers": {"x": 1},
                "form": {"caller_name": "李四"},
            },
        }
        saved = await one.put("/api/desk/draft", json=draft, headers=auth(agent))
        assert saved.status_code == 200, saved.text
        back = (await two.get("/api/desk/draft", headers=auth(agent))).json()
        assert back["call_id"] == "call-draft-1" and back["data"] == draft["data"]

        refused = await one.put(
            "/api/desk/draft", json={"call_id": "", "data": {}}, headers=auth(agent)
        )
        assert refused.status_code == 422
        assert (await two.get("/api/desk/draft", headers=auth(agent))).json() == back

        await publish(
            infra_env["kafka_bootstrap_servers"],
            infra_env["kafka_topic_prefix"],
            EscalationResolvedV1(
                escalation_id="esc-durable-1",
                outcome="taken_over",
                supervisor_id="super-9001",
                resolved_at=datetime.now(UTC),
            ),
        )

        async def outcome():
            r = await two.get("/api/desk/escalations/esc-durable-1", headers=auth(agent))
            return r.json()["outcome"]

        assert await eventually(outcome) == "taken_over"
