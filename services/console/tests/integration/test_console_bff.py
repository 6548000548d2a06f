"""The BFF against the real broker, database and identity provider: sign-in by authorization code
with PKCE through Keycloak's login page (tokens kept server-side behind an HttpOnly cookie,
refresh, sign-out that revokes), role checks, and the live stream delivering what is published
on Kafka (and the call offer it causes)."""

import asyncio
import contextlib
import html
import json
import re
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from brightline.console.adapters.orm import web_sessions
from brightline.console.main import create_app
from brightline.console.settings import ConsoleSettings
from brightline.contracts.events.intake import CallRingingV1, TicketRecordedV1
from brightline.messaging.metrics import FETCH_REQUESTS
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.db import create_engine, database_url, server_url
from brightline.platform.local.paths import free_port
from brightline.platform.testing import bearer, eventually, identity_provider

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
    # The tests answer every offer however busy the machine; ringing out has its own test; a
    # seat they leave alone stays on the floor (losing its desk has its own test, too).
    return ConsoleSettings(
        **infra_env,
        database_name=db_name("console"),
        ring_no_answer_seconds=60,
        desk_lost_seconds=600,
    )


NAMES = {"agent-1001": "王晓丽", "agent-1002": "李明", "agent-1003": "张芳", "agent-1004": "陈静"}


def token_of(username: str) -> str:
    """A Keycloak access token for an agent (agent-*) or supervisor (super-*)."""
    role = Role.SUPERVISOR if username.startswith("super-") else Role.AGENT
    headers = bearer(
        role, subject=username, name=NAMES.get(username, "赵值班长"), staff_no=username[-4:]
    )
    return headers["Authorization"].split(" ", 1)[1]


async def keycloak_sign_in(http, username: str, password: str) -> httpx.Response:
    """Follow /auth/login to Keycloak's real login page, submit its form, follow the redirect
    back to /auth/callback; the final response (the page /auth/login's `next` names)."""
    login = await http.get("/auth/login", params={"next": "/?view=board"})
    assert login.status_code == 302
    location = login.headers["location"]
    assert "code_challenge_method=S256" in location and "code_challenge=" in location
    page = await http.get(location)
    assert page.status_code == 200, page.text[:300]
    action = html.unescape(
        re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text).group(1)
    )
    # Keycloak marks its cookies Secure; browsers send them to http://127.0.0.1 (a trustworthy
    # origin), Python's cookie jar does not: send them as a browser would.
    jar = "; ".join(
        f"{c.name}={c.value}" for c in http.cookies.jar if c.name != "brightline_session"
    )
    back = await http.post(
        action, data={"username": username, "password": password}, headers={"Cookie": jar}
    )
    if back.status_code != 302:
        return back  # Keycloak's page again, saying why
    return await http.get(back.headers["location"])


async def test_sign_in_by_authorization_code_with_pkce_keeps_tokens_server_side(settings):
    password = identity_provider().password(
        "agent-1001", Role.AGENT, name="王晓丽", staff_no="1001"
    )
    async with serving(settings) as http:
        assert (await http.get("/api/me")).status_code == 401
        assert (await http.post("/api/sessions", json={"username": "agent-1001"})).status_code in (
            404,
            405,
        )

        refused = await keycloak_sign_in(http, "agent-1001", "wrong-password-123")
        assert refused.status_code == 200 and "kc-form-login" in refused.text
        assert "brightline_session" not in http.cookies  # Keycloak said no: no session here

        done = await keycloak_sign_in(http, "agent-1001", password)
        assert done.status_code == 303 and done.headers["location"] == "/?view=board"
        cookie = done.headers["set-cookie"]
        assert "brightline_session=" in cookie and "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert "eyJ" not in cookie and "eyJ" not in done.text  # no token reaches the browser

        me = await http.get("/api/me")
        assert me.status_code == 200, me.text
        assert me.json()["subject"] == "agent-1001" and me.json()["roles"] == ["agent"]
        assert me.json()["name"] == "王晓丽" and me.json()["staff_no"] == "1001"

        # Refresh: an access token about to expire is renewed with the refresh token.
        engine = create_engine(
            database_url(server_url(settings.database_url), settings.database_name), pool_size=2
        )
        try:
            async with engine.begin() as conn:
                before = (await conn.execute(web_sessions.select())).one()
                await conn.execute(
                    web_sessions.update().values(access_expires_at=datetime.now(UTC))
                )
            assert (await http.get("/api/me")).status_code == 200
            async with engine.connect() as conn:
                after = (await conn.execute(web_sessions.select())).one()
            assert after.access_token != before.access_token

            # Signed in, the agent has a seat on the floor; ready, the floor offers them calls.
            ready = await http.put("/api/desk/state", json={"state": "ready"})
            assert ready.status_code == 200, ready.text
            assert ready.json()["seat"]["name"] == "王晓丽"

            # Sign-out: the session row is gone, the cookie cleared, the refresh token revoked,
            # and the seat offline (left ready, calls would ring at an empty chair).
            out = await http.get("/auth/logout", follow_redirects=False)
            assert out.status_code == 303
            assert (await http.get("/api/me")).status_code == 401
            boss = {"Authorization": f"Bearer {token_of('super-9001')}"}
            floor = (await http.get("/api/supervisor/floor", headers=boss)).json()
            assert {a["agent_id"]: a["state"] for a in floor["agents"]} == {"agent-1001": "offline"}
            async with engine.connect() as conn:
                assert (await conn.execute(web_sessions.select())).first() is None
        finally:
            await engine.dispose()
        refused = await http.post(
            f"{identity_provider().issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": after.refresh_token,
                "client_id": "brightline-console",
                "client_secret": identity_provider().console_secret,
            },
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_wrong_role_is_forbidden_and_no_token_is_unauthenticated(settings):
    no_casework = settings.model_copy(update={"casework_url": "http://127.0.0.1:9"})
    async with serving(no_casework) as http:
        agent = token_of("agent-1002")
        boss = token_of("super-9001")
        assert (await http.get("/api/supervisor/floor")).status_code == 401
        # The agent's first call takes a seat on the floor (as signing in on the page does).
        seat = await http.get("/api/desk/state", headers={"Authorization": f"Bearer {agent}"})
        assert seat.status_code == 200
        r = await http.get("/api/supervisor/floor", headers={"Authorization": f"Bearer {agent}"})
        assert r.status_code == 403 and r.json()["type"].endswith("/forbidden")
        r = await http.put(
            "/api/desk/state", json={"state": "ready"}, headers={"Authorization": f"Bearer {boss}"}
        )
        assert r.status_code == 403
        floor = await http.get("/api/supervisor/floor", headers={"Authorization": f"Bearer {boss}"})
        assert floor.status_code == 200
        assert "agent-1002" in [a["agent_id"] for a in floor.json()["agents"]]

        # A department's caseworker has the department desk and nothing of the floor's; the
        # floor has no department desk.
        caseworker = {
            "Authorization": bearer(
                Role.CASEWORKER, subject="cw-1", name="孙办理", department_id="dept-service"
            )["Authorization"]
        }
        me = await http.get("/api/me", headers=caseworker)
        assert me.status_code == 200
        assert me.json()["roles"] == ["caseworker"]
        assert me.json()["department_id"] == "dept-service"
        held = await http.get("/api/department/cases", headers=caseworker)
        # casework is not running here: the queue is empty and says why
        assert held.status_code == 200, held.text
        assert held.json()["cases"] == [] and held.json()["problems"][0]["status"] == 502
        for path in ("/api/supervisor/floor", "/api/desk/state", "/api/records/tickets"):
            assert (await http.get(path, headers=caseworker)).status_code == 403, path
        for token in (agent, boss):
            r = await http.get(
                "/api/department/cases", headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 403


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
        agent = token_of("agent-1003")
        boss = token_of("super-9001")
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
                "/api/desk/state",
                json={"state": "ready"},
                headers={"Authorization": f"Bearer {agent}"},
            )
            assert r.json()["seat"]["state"] == "ready"

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
                await http.get("/api/desk/state", headers={"Authorization": f"Bearer {agent}"})
            ).json()
            assert state["seat"]["state"] == "ringing" and state["offer"]["call_id"] == "call-sse-1"
            # The live view fetches as every consumer does (paced, in fetch sessions), counted
            # on /metrics like them.
            assert FETCH_REQUESTS.labels("console-live")._value.get() > 0
        finally:
            for task in readers:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


async def test_answering_without_an_offer_is_refused(settings):
    async with serving(settings) as http:
        agent = token_of("agent-1004")
        r = await http.post(
            "/api/agent/calls/nope/answer", headers={"Authorization": f"Bearer {agent}"}
        )
        assert r.status_code == 409 and r.json()["type"].endswith("/not-offered")


async def test_the_built_app_is_served_at_each_of_its_paths(settings):
    """`make setup` builds services/console/web into dist/; the console serves its index.html at
    the app's paths and the hashed assets it names."""
    import re

    async with serving(settings) as http:
        for path in ("/", "/desk", "/signin", "/supervisor", "/department"):
            page = await http.get(path)
            assert page.status_code == 200, path
            assert page.headers["cache-control"] == "no-cache"
        assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
        assert assets, page.text
        for asset in assets:
            assert (await http.get(asset)).status_code == 200, asset


async def _async(value):
    return value
