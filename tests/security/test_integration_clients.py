"""Integration clients: OAuth2 client credentials, per-service scopes, 429 with Retry-After."""

from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends

from brightline.platform.app import create_service_app
from brightline.platform.auth import Allow, Principal, Role
from brightline.platform.settings import ServiceSettings

CLIENTS = (
    '[{"client_id": "switch", "secret_sha256": '
    '"093f7e6ca5e6fc75261951051e5e328a57592c001f56d889bcb7d360f2829a55", "scopes": ["intake"]},'
    ' {"client_id": "gis", "secret_sha256": '
    '"093f7e6ca5e6fc75261951051e5e328a57592c001f56d889bcb7d360f2829a55", "scopes": ["dispatch"]}]'
)
SECRET = "demo-integration-secret"


def app_for(service: str, rate_limit: str = "1000/minute"):
    router = APIRouter(prefix="/things", tags=["things"])

    @router.post("")
    async def import_things(client: Annotated[Principal, Depends(Allow(Role.INTEGRATION))]) -> dict:
        return {"client": client.subject}

    @asynccontextmanager
    async def lifespan(app):
        yield

    settings = ServiceSettings(
        service_name=service,
        database_name="unused",
        integration_clients=CLIENTS,
        integration_rate_limit=rate_limit,
    )
    return create_service_app(
        settings, title=service, description="", routers=[router], lifespan=lifespan
    )


async def token(client: httpx.AsyncClient, client_id: str, secret: str = SECRET) -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


def http(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_client_credentials_give_a_token_scoped_to_services():
    async with http(app_for("intake")) as client:
        issued = await token(client, "switch")
        assert issued.status_code == 200
        assert issued.json()["scope"] == "intake"
        ok = await client.post(
            "/things", headers={"Authorization": f"Bearer {issued.json()['access_token']}"}
        )
        assert ok.json() == {"client": "client:switch"}


async def test_wrong_secret_and_unknown_client_are_rejected_as_problems():
    async with http(app_for("intake")) as client:
        for client_id, secret in (("switch", "guess"), ("nobody", SECRET)):
            response = await token(client, client_id, secret)
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["error"] == "invalid_client"


async def test_a_client_cannot_call_a_service_outside_its_scopes():
    async with http(app_for("dispatch")) as dispatch, http(app_for("intake")) as intake:
        switch_token = (await token(intake, "switch")).json()["access_token"]
        refused = await dispatch.post(
            "/things", headers={"Authorization": f"Bearer {switch_token}"}
        )
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/insufficient-scope")


async def test_over_the_rate_limit_gets_429_with_retry_after():
    async with http(app_for("intake", rate_limit="5/minute")) as client:
        headers = {
            "Authorization": f"Bearer {(await token(client, 'switch')).json()['access_token']}"
        }
        statuses = [(await client.post("/things", headers=headers)).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        limited = await client.post("/things", headers=headers)
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
