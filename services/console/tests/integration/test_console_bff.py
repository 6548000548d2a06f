"""The BFF against the real broker and database: sign-in from the console's own directory, role
checks, and the live stream delivering what is published on Kafka (and the call offer it causes)."""

import asyncio
import contextlib
import json
from datetime import UTC, datetime

import httpx
import jwt
import pytest
import uvicorn

from brightline.console.adapters.users import DEMO_PASSWORD
from brightline.console.main import create_app
from brightline.console.settings import ConsoleSettings
from brightline.contracts.events.intake import CallRingingV1, TicketRecordedV1
from brightline.messaging.testing import publish
from brightline.platform.local.paths import free_port
from brightline.platform.settings import DEV_AUTH_SECRET
from brightline.platform.testing import eventually

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def serving(settings: ConsoleSettings):
    """The console on a real port (SSE needs a real streaming server), lifespan and all."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:

            async def ready():
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, timeout=60)
            yield http
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
def settings(infra_env, db_name):
    return ConsoleSettings(**infra_env, database_name=db_name("console"))


async def sign_in(http, username, password=DEMO_PASSWORD):
    return await http.post("/api/sessions", json={"username": username, "password": password})


async def test_sign_in_gives_a_token_with_role_and_staff_number(settings):
    async with serving(settings) as http:
        r = await sign_in(http, "agent-1001")
        assert r.status_code == 201, r.text
        body = r.json()
        claims = jwt.decode(
            body["token"], DEV_AUTH_SECRET, algorithms=["HS256"], issuer="brightline"
        )
        assert (
            claims["sub"] == "agent-1001"
            and claims["roles"] == ["agent"]
            and claims["staff_no"] == "1001"
        )
        assert body["user"]["roles"] == ["agent"]

        bad = await sign_in(http, "agent-1001", "wrong")
        assert bad.status_code == 401 and bad.json()["type"].endswith("/bad-credentials")
        unknown = await sign_in(http, "nobody")
        assert unknown.status_code == 401

        me = await http.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
        assert me.json()["subject"] == "agent-1001"


async def test_wrong_role_is_forbidden_and_no_token_is_unauthenticated(settings):
    async with serving(settings) as http:
        agent = (await sign_in(http, "agent-1002")).json()["token"]
        boss = (await sign_in(http, "super-9001")).json()["token"]
        assert (await http.get("/api/supervisor/floor")).status_code == 401
        r = await http.get("/api/supervisor/floor", headers={"Authorization": f"Bearer {agent}"})
        assert r.status_code == 403 and r.json()["type"].endswith("/forbidden")
        r = await http.put(
            "/api/agent/state", json={"state": "ready"}, headers={"Authorization": f"Bearer {boss}"}
        )
        assert r.status_code == 403
        floor = await http.get("/api/supervisor/floor", headers={"Authorization": f"Bearer {boss}"})
        assert floor.status_code == 200
        assert "agent-1002" in [a["agent_id"] for a in floor.json()["agents"]]


async def read_events(http, token, into: list):
    async with http.stream(
        "GET", "/api/events", headers={"Authorization": f"Bearer {token}"}, timeout=None
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                into.append(json.loads(line[6:]))


async def test_stream_delivers_kafka_events_and_offers_the_ringing_call_to_the_ready_agent(
    settings, infra_env
):
    async with serving(settings) as http:
        agent = (await sign_in(http, "agent-1003")).json()["token"]
        boss = (await sign_in(http, "super-9001")).json()["token"]
        agent_seen, boss_seen = [], []
        readers = [
            asyncio.create_task(read_events(http, agent, agent_seen)),
            asyncio.create_task(read_events(http, boss, boss_seen)),
        ]
        try:
            await eventually(
                lambda: _async(len(agent_seen) > 0 and len(boss_seen) > 0)
            )  # hello frames
            r = await http.put(
                "/api/agent/state",
                json={"state": "ready"},
                headers={"Authorization": f"Bearer {agent}"},
            )
            assert r.json()["state"] == "ready"

            now = datetime.now(UTC)
            await publish(
                infra_env["kafka_bootstrap_servers"],
                infra_env["kafka_topic_prefix"],
                CallRingingV1(
                    call_id="call-sse-1",
                    caller_number="13912345678",
                    called_number="95598",
                    queue="95598",
                    rang_at=now,
                ),
                TicketRecordedV1(
                    ticket_id="tk-sse-1",
                    ticket_no="BL-0001",
                    ticket_type="repair",
                    recorded_at=now,
                    first_ask_owner="agent-1001",
                    description="整片停电",
                    phone="13912345678",
                    caller_name="李四",
                ),
            )

            offer = await eventually(
                lambda: _async(next((m for m in agent_seen if m["kind"] == "offer"), None))
            )
            assert offer["data"]["call_id"] == "call-sse-1"
            ticket = await eventually(
                lambda: _async(
                    next(
                        (
                            m
                            for m in boss_seen
                            if m["kind"] == "event" and m["type"] == "ticket.recorded"
                        ),
                        None,
                    )
                )
            )
            assert ticket["data"]["ticket_no"] == "BL-0001"
            assert ticket["data"]["phone"] == "***" and ticket["data"]["caller_name"] == "***"
            # The supervisor's floor shows the agent ringing; the agent never receives the whole floor.
            floor = await eventually(
                lambda: _async(
                    next(
                        (
                            m
                            for m in reversed(boss_seen)
                            if m["kind"] == "floor"
                            and any(a["state"] == "ringing" for a in m["floor"]["agents"])
                        ),
                        None,
                    )
                )
            )
            assert floor["floor"]["waiting"][0]["offered_to"] == "agent-1003"
            assert not [m for m in agent_seen if m["kind"] == "floor"]

            state = (
                await http.get("/api/agent/state", headers={"Authorization": f"Bearer {agent}"})
            ).json()
            assert state["state"] == "ringing" and state["offer"]["call_id"] == "call-sse-1"
        finally:
            for task in readers:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


async def test_answering_without_an_offer_is_refused(settings):
    async with serving(settings) as http:
        agent = (await sign_in(http, "agent-1004")).json()["token"]
        r = await http.post(
            "/api/agent/calls/nope/answer", headers={"Authorization": f"Bearer {agent}"}
        )
        assert r.status_code == 409 and r.json()["type"].endswith("/not-offered")


async def test_the_built_app_is_served_at_each_of_its_paths(settings):
    """`make setup` builds services/console/web into dist/; the console serves its index.html at
    the app's paths and the hashed assets it names."""
    import re

    async with serving(settings) as http:
        for path in ("/", "/desk", "/signin", "/supervisor"):
            page = await http.get(path)
            assert page.status_code == 200, path
            assert page.headers["cache-control"] == "no-cache"
        assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
        assert assets, page.text
        for asset in assets:
            assert (await http.get(asset)).status_code == 200, asset


async def _async(value):
    return value
