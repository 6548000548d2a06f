"""Sign-in, the identity provider's way: authorization code with PKCE through a real browser
redirect to its login page; the tokens stay in the console's database, the browser gets an
HttpOnly, SameSite=Lax cookie (Secure over https); refresh happens here; sign-out ends the
provider's session and revokes the refresh token."""

from __future__ import annotations

import contextlib
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from brightline.console.adapters.oidc import pkce_pair
from brightline.console.domain.floor import IllegalState
from brightline.platform import clock
from brightline.platform.auth import Public, Role, verifier_for
from brightline.platform.problems import Problem

COOKIE = "brightline_session"
REFRESH_MARGIN = timedelta(seconds=30)

router = APIRouter(prefix="/auth", tags=["auth"], include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only a path of this site: never another origin (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:500]


def redirect_uri(request: Request) -> str:
    settings = request.app.state.settings
    base = settings.public_url or str(request.base_url).rstrip("/")
    return f"{base.rstrip('/')}/auth/callback"


@router.get("/login", dependencies=[Depends(Public("sign-in: the caller has no session yet"))])
async def login(request: Request, next: Annotated[str | None, Query(max_length=500)] = None):
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(16)
    state = await request.app.state.web_sessions.start_login(
        code_verifier=verifier, nonce=nonce, next_path=safe_next(next)
    )
    url = await request.app.state.oidc.authorization_url(
        redirect_uri=redirect_uri(request), state=state, nonce=nonce, code_challenge=challenge
    )
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


@router.get(
    "/callback", dependencies=[Depends(Public("the identity provider returns the user here"))]
)
async def callback(
    request: Request,
    state: Annotated[str, Query(max_length=100)],
    code: Annotated[str | None, Query(max_length=4000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
):
    sessions = request.app.state.web_sessions
    pending = await sessions.take_login(state)
    if pending is None:
        raise Problem(400, "unknown-login", "This sign-in expired or was already used", "state")
    if error or not code:
        raise Problem(401, "sign-in-refused", "The identity provider refused the sign-in", error)
    tokens = await request.app.state.oidc.exchange(
        code=code, code_verifier=pending.code_verifier, redirect_uri=redirect_uri(request)
    )
    principal = await verifier_for(request.app.state).principal(tokens.access_token)
    if not principal.has(Role.AGENT, Role.SUPERVISOR, Role.CASEWORKER):
        await request.app.state.oidc.sign_out(tokens.refresh_token)
        raise Problem(
            403, "forbidden", "The console is for agents, supervisors and departments' caseworkers"
        )
    cookie = await sessions.create(principal.subject, tokens)
    if principal.has(Role.AGENT):  # the agent takes a seat on the floor
        hub = request.app.state.hub
        await hub.seen([principal.subject], clock.now())
        async with hub.change() as step:
            seat = step.floor.sign_in(
                principal.subject,
                principal.name or principal.subject,
                principal.staff_no or "",
                clock.now(),
            )
        hub.broadcast({"kind": "agent", "data": step.floor.seat_view(seat, clock.now())})
    response = RedirectResponse(pending.next_path, status_code=303)
    _set_cookie(request, response, cookie)
    return response


@router.get("/logout", dependencies=[Depends(Public("sign-out works with or without a session"))])
async def logout(request: Request):
    cookie = request.cookies.get(COOKIE)
    if cookie and (row := await request.app.state.web_sessions.delete(cookie)):
        await request.app.state.oidc.sign_out(row.refresh_token)
        await _leave_the_floor(request.app.state.hub, row.subject)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def _leave_the_floor(hub, agent_id: str) -> None:
    """An agent who signs out goes offline: left ready, the floor kept offering them calls
    that rang at an empty chair until ring-no-answer moved each on. A call in hand stays."""
    floor = await hub.read()
    seat = floor.seats.get(agent_id)
    if seat is None or seat.state in ("offline", "talking"):
        return
    async with hub.change() as step:
        with contextlib.suppress(IllegalState):  # the call was answered meanwhile
            step.add(step.floor.set_state(agent_id, "offline", clock.now()))


def _set_cookie(request: Request, response, cookie: str) -> None:
    settings = request.app.state.settings
    secure = request.url.scheme == "https" or (settings.public_url or "").startswith("https")
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
        max_age=settings.session_ttl_seconds,
    )


async def session_token(request: Request) -> str | None:
    """The access token of the cookie's session, refreshed when it is about to expire; None when
    there is no live session (the caller then gets 401 and the page goes to /auth/login)."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    sessions = request.app.state.web_sessions
    row = await sessions.get(cookie)
    if row is None:
        return None
    now = clock.now()
    if row.access_expires_at - REFRESH_MARGIN > now:
        return row.access_token
    if not row.refresh_token:
        return None
    try:
        tokens = await request.app.state.oidc.refresh(row.refresh_token)
    except Problem:
        await sessions.delete(cookie)
        return None
    await sessions.update(cookie, tokens)
    return tokens.access_token
