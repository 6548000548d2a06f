"""The authorisation matrix: every endpoint of every service x every role, generated from the
routes the apps really serve, so a new service or a new endpoint is covered without editing
this file, and an endpoint added without an Allow(...) rule fails it.

1. Statically: every non-public route has an Allow(...) somewhere in its dependency tree.
   Public(reason) marks a route deliberately public (sign-in).
2. Live, against the real broker and database with each app's lifespan running: anonymous gets
   401, a role the rule does not name gets 403, a role it names gets past the gate (anything
   but 401/403: usually 404 for the dummy ids or 422 for the empty body).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends

from brightline.platform.auth import Allow, Principal, Public, Role
from brightline.platform.testing import (
    bearer,
    route_rules,
    running,
    service_app,
    service_names,
    unguarded_routes,
)

SERVICES = service_names()
ROLES: list[Role | None] = [None, *Role]  # None = anonymous
DUMMY = "x0"  # every path parameter, and every identity claim, so ownership checks can pass
BODY_METHODS = {"POST", "PUT", "PATCH"}
STREAM_WAIT = 5.0  # seconds; an endpoint still answering after this is a held-open event stream
REFUSAL_WAIT = 120.0  # seconds; only a hung gate takes this long to say 401 or 403


def assert_every_route_has_a_rule(app, service: str) -> None:
    missing = unguarded_routes(app)
    assert not missing, f"{service}: routes without an Allow(...) rule: {', '.join(missing)}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_names_the_roles_allowed_to_call_it(service):
    app = service_app(service)
    assert route_rules(app), f"{service} serves no routes at all?"
    assert_every_route_has_a_rule(app, service)


def test_an_endpoint_added_without_a_rule_fails_the_matrix():
    """A copy of a real app with one extra route nobody guarded: the checker names it; a
    guarded extra route passes."""
    app = service_app(SERVICES[0])
    assert_every_route_has_a_rule(app, SERVICES[0])

    sneaky = APIRouter(prefix="/sneaky", tags=["sneaky"])

    @sneaky.get("/{thing_id}")
    async def read_anything(thing_id: str) -> dict:
        return {"thing": thing_id}

    @sneaky.post("/guarded")
    async def guarded(who: Annotated[Principal, Depends(Allow(Role.SUPERVISOR))]) -> dict:
        return {}

    @sneaky.post("/sign-in", dependencies=[Depends(Public("sign-in: no token yet"))])
    async def sign_in() -> dict:
        return {}

    app.include_router(sneaky)
    assert unguarded_routes(app) == ["GET /sneaky/{thing_id}"]
    with pytest.raises(AssertionError, match=re.escape("GET /sneaky/{thing_id}")):
        assert_every_route_has_a_rule(app, SERVICES[0])
    rules = {(m, p): r for m, p, r in route_rules(app)}
    assert rules[("POST", "/sneaky/guarded")] == {Role.SUPERVISOR}
    assert isinstance(rules[("POST", "/sneaky/sign-in")], Public)


def headers_for(role: Role | None) -> dict:
    if role is None:
        return {}
    return bearer(
        role,
        subject=f"{role}-{DUMMY}",
        crew_id=DUMMY,
        department_id=DUMMY,
        unit_id=DUMMY,
        staff_no="1001",
        name="测试",
    )


def expected(role: Role | None, rule) -> str:
    if rule is None:
        return "undecided"  # fails: nobody decided who may call it
    if isinstance(rule, Public):
        return "pass"
    if role is None:
        return "401"
    return "pass" if role in rule else "403"


def verdict(want: str, status: int) -> bool:
    if want == "undecided":
        return False
    if want == "pass":
        return status not in (401, 403)  # 5xx are the fuzzer's business (test_fuzz_openapi)
    return str(status) == want


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICES)
async def test_every_endpoint_admits_exactly_its_roles(service, infra_env, db_name):
    app = service_app(service, **infra_env, database_name=db_name(service))
    rules = route_rules(app)
    failures: list[str] = [
        f"{route}: no Allow(...) or Public(...) rule" for route in unguarded_routes(app)
    ]
    lines = [
        (
            f"\n{service}: authorisation matrix ({len(rules)} endpoints x {len(ROLES)} roles; "
            "status seen, * = wrong)"
        ),
        f"{'endpoint':52}" + "".join(f"{(r or 'anonymous'):>13}" for r in ROLES),
    ]
    async with running(app) as client:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the matrix below says it all
        for method, path, allowed in rules:
            if isinstance(allowed, Public) and path.endswith("{file}"):
                continue  # static files: nothing to authorise
            url = re.sub(r"\{[^}]+\}", DUMMY, path)
            row = f"{method + ' ' + path:52}"
            for role in ROLES:
                want = expected(role, allowed)
                try:
                    response = await asyncio.wait_for(
                        client.request(
                            method,
                            url,
                            headers=headers_for(role),
                            json={} if method in BODY_METHODS else None,
                        ),
                        # A refusal never holds a stream open: it is waited for however busy
                        # the box (a slow 403 read as "open" failed the matrix once).
                        STREAM_WAIT if want == "pass" else REFUSAL_WAIT,
                    )
                except TimeoutError:
                    # An event stream held open: the gate let the caller in (401/403 come at once).
                    response = httpx.Response(200, text="(stream held open)")
                    status = "open"
                else:
                    status = str(response.status_code)
                ok = verdict(want, response.status_code)
                row += f"{status + ('' if ok else '*'):>13}"
                if not ok and want != "undecided":
                    failures.append(
                        f"{method} {path} as {role or 'anonymous'}: expected {want}, got "
                        f"{response.status_code} {response.text[:200]}"
                    )
            lines.append(row)
    print("\n".join(lines))
    assert not failures, f"{service}:\n" + "\n".join(failures)
