"""Who may call what. Every route names its owner roles with `Allow(...)`; a route without it
is caught by the authorisation-matrix test.

No service signs tokens. Every service is an OAuth2 resource server of one OpenID Connect
provider (Keycloak in this project; any standard provider will do): it finds the provider's
keys through the issuer's discovery document and JWKS, refetches them when a token names a key
id it does not know (key rotation), and admits an RS256/ES256 token only when its issuer, its
audience (one per service: brightline-<service>), its expiry and its roles check out.
"""

from __future__ import annotations

import asyncio
import os
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from brightline.platform.problems import Problem


class Role(StrEnum):
    AGENT = "agent"  # 坐席
    SUPERVISOR = "supervisor"  # 值班长
    CREW = "crew"  # 抢修班 member
    INTEGRATION = "integration"  # another utility system
    CASEWORKER = "caseworker"  # department staff handling complaints and reports


ALGORITHMS = ["RS256", "ES256", "PS256"]
# A token naming an unknown key id refetches the JWKS at most this often (no refetch storm).
JWKS_REFETCH_SECONDS = 10.0
# Verified tokens remembered per verifier (a desk sends the same token for minutes): checking an
# RS256 signature costs ~0.3 ms of CPU per request, a dictionary lookup nothing. Bounded, so a
# caller minting fresh tokens cannot grow it without limit.
VERIFIED_TOKENS_KEPT = 4096
SERVICE_ACCOUNT_PREFIX = "service-account-"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    name: str | None = None
    staff_no: str | None = None
    crew_id: str | None = None
    unit_id: str | None = None
    department_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The caller a verified token describes. Roles: the `roles` claim (the realm's role mapper)
    and Keycloak's `realm_access.roles`; names the project does not know are ignored. Subject:
    the user name, or for a client-credentials token the client's id."""
    names = set(claims.get("roles") or []) | set(
        (claims.get("realm_access") or {}).get("roles") or []
    )
    roles = frozenset(Role(n) for n in names if n in Role._value2member_map_)
    username = claims.get("preferred_username") or claims["sub"]
    if username.startswith(SERVICE_ACCOUNT_PREFIX) and (client := claims.get("azp")):
        username = client
    scopes = set(claims.get("scopes") or [])
    if isinstance(claims.get("scope"), str):
        scopes |= set(claims["scope"].split())
    return Principal(
        subject=username,
        roles=roles,
        name=claims.get("name"),
        staff_no=claims.get("staff_no"),
        crew_id=claims.get("crew_id"),
        unit_id=claims.get("unit_id"),
        department_id=claims.get("department_id"),
        scopes=frozenset(scopes),
    )


class TokenVerifier:
    """Verifies access tokens of one issuer for one audience, keys from the issuer's JWKS."""

    def __init__(
        self, issuer: str, audience: str, *, leeway: int = 30, discovery_url: str | None = None
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.discovery_url = (discovery_url or issuer).rstrip("/")
        self.audience = audience
        self.leeway = leeway
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_uri: str | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        # token -> (its expiry, the principal it names); only tokens that passed verify()
        self._verified: dict[str, tuple[float, Principal]] = {}

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < JWKS_REFETCH_SECONDS:
                return
            self._fetched_at = time.monotonic()
            async with httpx.AsyncClient(timeout=5) as client:
                if self._jwks_uri is None:
                    discovery = await client.get(
                        f"{self.discovery_url}/.well-known/openid-configuration"
                    )
                    discovery.raise_for_status()
                    document = discovery.json()
                    if document.get("issuer", "").rstrip("/") != self.issuer:
                        raise ValueError(f"discovery names issuer {document.get('issuer')!r}")
                    self._jwks_uri = document["jwks_uri"]
                response = await client.get(self._jwks_uri)
                response.raise_for_status()
            keys = {}
            for data in response.json().get("keys", []):
                if data.get("use", "sig") != "sig" or data.get("alg") not in (None, *ALGORITHMS):
                    continue
                try:
                    keys[data["kid"]] = jwt.PyJWK(data)
                except (jwt.PyJWTError, KeyError):
                    continue
            self._keys = keys

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys:
            try:
                await self._refresh()
            except (httpx.HTTPError, ValueError, KeyError) as error:
                raise Problem(
                    503,
                    "identity-provider-unavailable",
                    "The identity provider's keys cannot be fetched",
                    str(error),
                    headers={"Retry-After": "5"},
                ) from error
        return self._keys.get(kid)

    async def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _unauthenticated(str(error)) from error
        if header.get("alg") not in ALGORITHMS:
            raise _unauthenticated(f"algorithm {header.get('alg')!r} is not accepted")
        key = await self.key(str(header.get("kid")))
        if key is None:
            raise _unauthenticated("the token names a key the issuer does not publish")
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise _unauthenticated(str(error)) from error

    async def principal(self, token: str) -> Principal:
        """The caller a token names. A token verified before is not verified again until its
        expiry (the same leeway as jwt.decode's); after that it goes through verify(), which
        refuses it. Issuer, audience and signature cannot change for the same token string."""
        kept = self._verified.get(token)
        if kept is not None:
            if time.time() <= kept[0] + self.leeway:
                return kept[1]
            del self._verified[token]
        claims = await self.verify(token)
        principal = principal_from_claims(claims)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            del self._verified[next(iter(self._verified))]  # the oldest remembered
        self._verified[token] = (float(claims["exp"]), principal)
        return principal


def _unauthenticated(detail: str) -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Invalid or expired token",
        detail,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def verifier_for(app_state: State) -> TokenVerifier:
    """The app's verifier, built on first use: in development the issuer may be published
    after the app was built (the test suite's Keycloak sets BRIGHTLINE_OIDC_ISSUER)."""
    verifier: TokenVerifier | None = getattr(app_state, "token_verifier", None)
    if verifier is not None:
        return verifier
    settings = app_state.settings
    issuer = settings.oidc_issuer
    if issuer is None and settings.is_development:
        issuer = os.environ.get("BRIGHTLINE_OIDC_ISSUER")
    if not issuer:
        raise Problem(
            503,
            "identity-provider-unconfigured",
            "No identity provider is configured (BRIGHTLINE_OIDC_ISSUER)",
        )
    verifier = TokenVerifier(
        issuer, settings.audience, discovery_url=getattr(settings, "oidc_discovery_url", None)
    )
    app_state.token_verifier = verifier
    return verifier


_bearer = HTTPBearer(auto_error=False)

# The caller of the request being handled (idempotency keys are scoped to it).
CURRENT_PRINCIPAL: ContextVar[Principal | None] = ContextVar("current_principal", default=None)


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    token = credentials.credentials if credentials is not None else None
    if token is None and (from_session := getattr(request.app.state, "session_token", None)):
        # A web app's own session (the console's cookie, tokens kept server-side).
        token = await from_session(request)
    if token is None:
        raise Problem(
            401,
            "unauthenticated",
            "A bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await verifier_for(request.app.state).principal(token)
    request.state.principal = principal
    request.state.access_token = token
    CURRENT_PRINCIPAL.set(principal)
    return principal


class Allow:
    """Dependency that admits only the named roles: `Depends(Allow(Role.AGENT))`."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        # authenticate() called, not depended on: FastAPI resolves every dependency of every
        # request anew (its cache key, its scopes), and one level less is one resolution less.
        principal = await authenticate(request, credentials)
        if not principal.has(*self.roles):
            raise Problem(
                403,
                "forbidden",
                "Your role may not do this",
                f"needs one of: {', '.join(sorted(self.roles))}",
            )
        if Role.INTEGRATION in self.roles and principal.roles == {Role.INTEGRATION}:
            # Another system, not a person: its scopes and its rate limit apply.
            await request.app.state.integration_gate.admit(principal)
        return principal


class Public:
    """Dependency that marks a route as deliberately public: `dependencies=[Depends(Public(
    "the sign-in page: the caller has no session yet"))]`. The authorisation matrix accepts a
    route with either Allow(...) or Public(reason); a route with neither fails it."""

    def __init__(self, reason: str) -> None:
        if not reason.strip():
            raise ValueError("say why the route is public")
        self.reason = reason

    async def __call__(self) -> None:
        return None


# Who may call a route: one name for each set of roles, meaning the same in every service.
Agent = Annotated[Principal, Depends(Allow(Role.AGENT))]
Supervisor = Annotated[Principal, Depends(Allow(Role.SUPERVISOR))]
Integration = Annotated[Principal, Depends(Allow(Role.INTEGRATION))]
Crew = Annotated[Principal, Depends(Allow(Role.CREW))]
# The call-centre floor: agents and the supervisors on duty with them.
Desk = Annotated[Principal, Depends(Allow(Role.AGENT, Role.SUPERVISOR))]
# The floor and the departments' caseworkers.
Staff = Annotated[Principal, Depends(Allow(Role.AGENT, Role.SUPERVISOR, Role.CASEWORKER))]
# Caseworkers and the supervisors over them.
Department = Annotated[Principal, Depends(Allow(Role.CASEWORKER, Role.SUPERVISOR))]
# A supervisor, or another utility system acting for one.
SupervisorOrSystem = Annotated[Principal, Depends(Allow(Role.SUPERVISOR, Role.INTEGRATION))]
DeskOrSystem = Annotated[Principal, Depends(Allow(Role.AGENT, Role.SUPERVISOR, Role.INTEGRATION))]
StaffOrSystem = Annotated[
    Principal,
    Depends(Allow(Role.AGENT, Role.SUPERVISOR, Role.CASEWORKER, Role.INTEGRATION)),
]
