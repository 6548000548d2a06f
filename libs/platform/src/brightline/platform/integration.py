"""Other utility systems: OAuth2 client credentials, per-service scopes, and a rate limit.

A client (the telephony switch, the billing system, the GIS) exchanges its id and secret for
a short JWT at POST /oauth/token. Its scopes name the services it may call ("intake", or "*").
Every integration call is counted per client; over the limit it gets 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Form, Request
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel

from brightline.platform.auth import Principal, Role, issue_token
from brightline.platform.problems import Problem

TOKEN_TTL_SECONDS = 3600


@dataclass(frozen=True)
class IntegrationClient:
    client_id: str
    secret_sha256: str
    scopes: frozenset[str]

    def verify(self, secret: str) -> bool:
        return hmac.compare_digest(hashlib.sha256(secret.encode()).hexdigest(), self.secret_sha256)


@cache
def parse_clients(raw: str) -> dict[str, IntegrationClient]:
    return {
        c["client_id"]: IntegrationClient(
            c["client_id"], c["secret_sha256"], frozenset(c.get("scopes", []))
        )
        for c in json.loads(raw)
    }


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str


def oauth_router() -> APIRouter:
    router = APIRouter(prefix="/oauth", tags=["oauth"])

    @router.post("/token", response_model=TokenResponse)
    async def issue_client_token(
        request: Request,
        grant_type: Annotated[str, Form()],
        client_id: Annotated[str, Form()],
        client_secret: Annotated[str, Form()],
        scope: Annotated[str | None, Form()] = None,
    ) -> TokenResponse:
        """OAuth2 client credentials grant (RFC 6749 §4.4) for integration clients. Public."""
        if grant_type != "client_credentials":
            raise Problem(
                400,
                "unsupported-grant-type",
                "Only client_credentials is supported",
                error="unsupported_grant_type",
            )
        settings = request.app.state.settings
        client = parse_clients(settings.integration_clients).get(client_id)
        if client is None or not client.verify(client_secret):
            raise Problem(
                401, "invalid-client", "Unknown client or wrong secret", error="invalid_client"
            )
        wanted = set(scope.split()) if scope else set(client.scopes)
        if not wanted <= client.scopes:
            raise Problem(
                400,
                "invalid-scope",
                "Scope not granted to this client",
                f"granted: {' '.join(sorted(client.scopes))}",
                error="invalid_scope",
            )
        token = issue_token(
            settings.auth_secret.get_secret_value(),
            f"client:{client_id}",
            [Role.INTEGRATION],
            ttl_seconds=TOKEN_TTL_SECONDS,
            scopes=sorted(wanted),
        )
        return TokenResponse(
            access_token=token, expires_in=TOKEN_TTL_SECONDS, scope=" ".join(sorted(wanted))
        )

    return router


class IntegrationGate:
    """Scope check and per-client rate limit for calls admitted as Role.INTEGRATION."""

    def __init__(self, service: str, rate_limit: str) -> None:
        self.service = service
        self.item = parse(rate_limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def admit(self, principal: Principal) -> None:
        if "*" not in principal.scopes and self.service not in principal.scopes:
            raise Problem(
                403,
                "insufficient-scope",
                "This client may not call this service",
                f"needs scope {self.service}",
            )
        if not await self.limiter.hit(self.item, principal.subject):
            stats = await self.limiter.get_window_stats(self.item, principal.subject)
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise Problem(
                429,
                "rate-limited",
                "Too many requests from this client",
                f"limit {self.item}; retry after {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
