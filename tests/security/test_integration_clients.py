"""Integration clients: OAuth2 client credentials at the identity provider (Keycloak), per-service
scopes (each adds that service's audience), 429 with Retry-After. No service issues tokens."""

import uuid
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends

from brightline.platform.app import create_service_app
from brightline.platform.auth import Allow, Principal, Role
from brightline.platform.settings import ServiceSettings
from brightline.platform.testing import identity_provider

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]
SWITCH, GIS = f"switch-{RUN}", f"gis-{RUN}"
SECRETS = {SWITCH: f"s-{uuid.uuid4().hex}", GIS: f"g-{uuid.uuid4().hex}"}


def client_representation(client_id: str, scope: str) -> dict:
    """A confidential client with a service account; only its own service's scope assigned."""
    return {
        "clientId": client_id,
        "enabled": True,
        "publicClient": False,
        "secret": SECRETS[client_id],
        "standardFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": True,
        "defaultClientScopes": ["basic", "brightline-claims"],
        "optionalClientScopes": [scope],
    }


@pytest.fixture(scope="module")
def issuer(oidc_issuer) -> str:
    identity_provider().admin.partial_import(
        {
            "clients": [
                client_representation(SWITCH, "intake"),
                client_representation(GIS, "dispatch"),
            ],
            "users": [
                {
                    "username": f"service-account-{c}",
                    "enabled": True,
                    "serviceAccountClientId": c,
                    "realmRoles": ["integration"],
                }
                for c in (SWITCH, GIS)
            ],
        }
    )
    return oidc_issuer


def app_for(issuer: str, service: str, rate_limit: str = "1000/minute"):
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
        environment="development",
        oidc_issuer=issuer,
        integration_rate_limit=rate_limit,
    )
    return create_service_app(
        settings, title=service, description="", routers=[router], lifespan=lifespan
    )


async def token(
    issuer: str, client_id: str, secret: str | None = None, scope: str | None = None
) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret or SECRETS.get(client_id, "x"),
                **({"scope": scope} if scope else {}),
            },
        )


def http(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_client_credentials_give_a_token_scoped_to_services(issuer):
    async with http(app_for(issuer, "intake")) as client:
        issued = await token(issuer, SWITCH, scope="intake")
        assert issued.status_code == 200, issued.text
        assert "intake" in issued.json()["scope"].split()
        ok = await client.post(
            "/things", headers={"Authorization": f"Bearer {issued.json()['access_token']}"}
        )
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"client": SWITCH}
        # The services issue nothing: their token endpoint is gone.
        assert (await client.post("/oauth/token", data={})).status_code == 404


async def test_wrong_secret_and_unknown_client_are_rejected_by_the_provider(issuer):
    for client_id, secret in ((SWITCH, "guess-guess-guess"), (f"nobody-{RUN}", "x")):
        response = await token(issuer, client_id, secret)
        assert response.status_code == 401
        assert response.json()["error"] in ("invalid_client", "unauthorized_client")


async def test_a_client_cannot_call_a_service_outside_its_scopes(issuer):
    async with http(app_for(issuer, "dispatch")) as dispatch:
        # A scope not assigned to the client is refused by the provider ...
        wider = await token(issuer, SWITCH, scope="intake dispatch")
        assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
        # ... and the intake token lacks dispatch's audience.
        switch_token = (await token(issuer, SWITCH, scope="intake")).json()
        refused = await dispatch.post(
            "/things", headers={"Authorization": f"Bearer {switch_token['access_token']}"}
        )
        assert refused.status_code == 401
        assert "audience" in refused.json()["detail"].lower()


async def test_over_the_rate_limit_gets_429_with_retry_after(issuer):
    async with http(app_for(issuer, "intake", rate_limit="5/minute")) as client:
        issued = (await token(issuer, SWITCH, scope="intake")).json()
        headers = {"Authorization": f"Bearer {issued['access_token']}"}
        statuses = [(await client.post("/things", headers=headers)).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        limited = await client.post("/things", headers=headers)
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
