"""Who may call what. Every route names its owner roles with `Allow(...)`; a route without it
is caught by the authorisation-matrix test. Tokens are short JWTs signed with the shared secret
(issued by the console's sign-in, dispatch's crew sign-in, or to integration clients)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from brightline.platform.problems import Problem


class Role(StrEnum):
    AGENT = "agent"  # 坐席
    SUPERVISOR = "supervisor"  # 值班长
    CREW = "crew"  # 抢修班 member
    INTEGRATION = "integration"  # another utility system
    CASEWORKER = "caseworker"  # department staff handling complaints and reports


ISSUER = "brightline"


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


def issue_token(
    secret: str,
    subject: str,
    roles: list[Role] | list[str],
    *,
    ttl_seconds: int = 12 * 3600,
    **claims,
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "sub": subject,
        "roles": [str(r) for r in roles],
        "iat": now,
        "exp": now + ttl_seconds,
        **{k: v for k, v in claims.items() if v is not None},
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub"]}
        )
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except (jwt.PyJWTError, ValueError) as error:
        raise Problem(401, "unauthenticated", "Invalid or expired token", str(error)) from error
    return Principal(
        subject=claims["sub"],
        roles=roles,
        name=claims.get("name"),
        staff_no=claims.get("staff_no"),
        crew_id=claims.get("crew_id"),
        unit_id=claims.get("unit_id"),
        department_id=claims.get("department_id"),
        scopes=frozenset(claims.get("scopes", [])),
    )


_bearer = HTTPBearer(auto_error=False)


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise Problem(401, "unauthenticated", "A bearer token is required")
    secret = request.app.state.settings.auth_secret.get_secret_value()
    principal = decode_token(secret, credentials.credentials)
    request.state.principal = principal
    return principal


class Allow:
    """Dependency that admits only the named roles: `Depends(Allow(Role.AGENT))`."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(
        self, request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> Principal:
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
    "sign-in: the caller has no token yet"))]`. The authorisation matrix accepts a route with
    either Allow(...) or Public(reason); a route with neither fails it (nobody decided)."""

    def __init__(self, reason: str) -> None:
        if not reason.strip():
            raise ValueError("say why the route is public")
        self.reason = reason

    async def __call__(self) -> None:
        return None
