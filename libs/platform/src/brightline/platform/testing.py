"""Helpers for the project's own tests (never imported by service code)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI

from brightline.platform.auth import Role

if TYPE_CHECKING:  # imported where used: a test module importing this one stays light
    import subprocess
    from pathlib import Path

    from fastapi.dependencies.models import Dependant
    from playwright.sync_api import Page
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from brightline.platform.local.keycloak import LocalKeycloak
    from brightline.platform.settings import ServiceSettings

# Claims a test may ask for, and the Keycloak user attribute each comes from (the realm's
# brightline-claims scope and the test client's mappers put them in the token).
CLAIM_ATTRIBUTES = {
    "staff_no": "staff_no",
    "crew_id": "crew_id",
    "unit_id": "unit_id",
    "department_id": "department_id",
    "scopes": "scopes",
}
TEST_CLIENT = "brightline-tests"


class TestIdentityProvider:
    """The test session's Keycloak: users made on demand through the admin REST API, tokens
    obtained from it with the test client's direct access grant (deploy/keycloak/
    test-clients.json, imported only here) and cached per (subject, roles, claims)."""

    __test__ = False  # not a test class

    def __init__(self, url: str, admin_password: str, admin_username: str = "admin") -> None:
        from brightline.platform.local.keycloak import REALM, KeycloakAdmin

        self.url = url.rstrip("/")
        self.issuer = f"{self.url}/realms/{REALM}"
        self.admin = KeycloakAdmin(self.url, admin_username, admin_password)
        self.http = httpx.Client(timeout=30)
        self._tokens: dict[tuple[Any, ...], str] = {}
        # One password for every test user, the same for sessions sharing this Keycloak.
        self._password = "T-" + hashlib.sha256(f"users:{admin_password}".encode()).hexdigest()[:32]
        self.server: LocalKeycloak | None = None  # when this process started it

    def prepare(self) -> None:
        from brightline.platform.local.paths import project_root

        # SKIP, not OVERWRITE: a session sharing this Keycloak (KEYCLOAK_URL) may be taking
        # tokens from the test client right now, and an overwrite recreates it.
        self.admin.partial_import(
            project_root() / "deploy" / "keycloak" / "test-clients.json", policy="SKIP"
        )
        self.admin.allow_admin_attributes()
        # The console's client: a secret of this session, and the loopback addresses of the
        # consoles the tests start on free ports (Keycloak matches a trailing * as a prefix).
        # Derived from the admin password: test sessions sharing one Keycloak agree on it.
        self.console_secret = (
            "test-console-"
            + hashlib.sha256(f"console:{self.admin._credentials[1]}".encode()).hexdigest()[:32]
        )
        self.admin.configure_client(
            "brightline-console",
            secret=self.console_secret,
            redirectUris=["http://127.0.0.1:*", "http://localhost:*"],
        )

    def password(self, username: str, *roles: Role | str, **claims: Any) -> str:
        """Make (or reset) a user with these roles and claims; the password to sign in with
        (on Keycloak's login page, in browser tests). Always made anew, never from the token
        cache: a sign-in reads the user as Keycloak has it now, which a bearer() for the same
        name with other claims may have changed since."""
        self._ensure_user(username, [str(r) for r in roles], claims)
        return self._password

    def token(self, subject: str, roles: list[str], claims: dict[str, Any]) -> str:
        key = (subject, tuple(sorted(roles)), _freeze(claims))
        if key in self._tokens:
            return self._tokens[key]
        self._ensure_user(subject, roles, claims)
        response = self.http.post(
            f"{self.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": TEST_CLIENT,
                "username": subject,
                "password": self._password,
            },
        )
        if response.status_code != 200:
            raise RuntimeError(f"Keycloak refused a test token: {response.text[:300]}")
        token: str = response.json()["access_token"]
        self._tokens[key] = token
        return token

    def _ensure_user(self, subject: str, roles: list[str], claims: dict[str, Any]) -> None:
        if subject != subject.lower():
            raise ValueError(f"bearer(): Keycloak user names are lower case, not {subject!r}")
        for claim in set(claims) - set(CLAIM_ATTRIBUTES) - {"name"}:
            self._map_claim(claim, claims[claim])  # a claim a newer test needs: map it now
        self._ensure_roles(roles)
        attributes = {
            CLAIM_ATTRIBUTES.get(claim, claim): [_text(v) for v in value]
            if isinstance(value, (list, tuple, set, frozenset))
            else [_text(value)]
            for claim, value in claims.items()
            if claim != "name" and value is not None
        }
        self.admin.ensure_user(subject, self._password, roles, attributes, name=claims.get("name"))

    def _map_claim(self, claim: str, value: Any) -> None:
        """A user-attribute mapper on the test client putting attribute `claim` in the token."""
        mapped = self.__dict__.setdefault("_mapped", set())
        if claim in mapped:
            return
        [client] = self.admin.request("GET", "/clients", params={"clientId": TEST_CLIENT}).json()
        existing = self.admin.request("GET", f"/clients/{client['id']}/protocol-mappers/models")
        if claim not in {m["name"] for m in existing.json()}:
            many = isinstance(value, (list, tuple, set, frozenset))
            sample = next(iter(value), "") if many else value
            json_type = (
                "boolean"
                if isinstance(sample, bool)
                else "int"
                if isinstance(sample, int)
                else "String"
            )
            self.admin.request(
                "POST",
                f"/clients/{client['id']}/protocol-mappers/models",
                json={
                    "name": claim,
                    "protocol": "openid-connect",
                    "protocolMapper": "oidc-usermodel-attribute-mapper",
                    "config": {
                        "user.attribute": claim,
                        "claim.name": claim,
                        "jsonType.label": json_type,
                        "multivalued": "true" if many else "false",
                        "access.token.claim": "true",
                        "id.token.claim": "false",
                        "userinfo.token.claim": "false",
                    },
                },
            )
        mapped.add(claim)

    def _ensure_roles(self, roles: list[str]) -> None:
        known = self.admin.realm_roles()
        for role in set(roles) - set(known):
            self.admin.request("POST", "/roles", json={"name": role})


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _freeze(claims: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        sorted(
            (k, tuple(sorted(map(str, v))) if isinstance(v, (list, tuple, set)) else v)
            for k, v in claims.items()
        )
    )


_PROVIDER: TestIdentityProvider | None = None
_PROVIDER_LOCK = threading.Lock()


def identity_provider() -> TestIdentityProvider:
    """The session's Keycloak, once per process: the one KEYCLOAK_URL names (with
    KEYCLOAK_ADMIN_PASSWORD), else one started now from Maven Central's distribution and
    stopped when the process exits. Its issuer is published as BRIGHTLINE_OIDC_ISSUER, which
    every service's settings read (and service processes inherit)."""
    global _PROVIDER
    with _PROVIDER_LOCK:
        if _PROVIDER is not None:
            return _PROVIDER
        import atexit
        import os

        if url := os.environ.get("KEYCLOAK_URL"):
            from brightline.platform.local.keycloak import REALM, answers_discovery

            deadline = time.monotonic() + 180
            while not answers_discovery(f"{url.rstrip('/')}/realms/{REALM}"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"KEYCLOAK_URL {url} serves no {REALM} realm")
                time.sleep(1)
            provider = TestIdentityProvider(
                url,
                os.environ["KEYCLOAK_ADMIN_PASSWORD"],
                os.environ.get("KEYCLOAK_ADMIN", "admin"),
            )
        else:
            import shutil

            from brightline.platform.local.keycloak import LocalKeycloak
            from brightline.platform.local.paths import project_root

            data_dir = project_root() / ".local" / "test-keycloak" / uuid.uuid4().hex[:8]
            server = LocalKeycloak(data_dir, database="dev-mem")
            server.start()

            def stop() -> None:
                server.stop()
                shutil.rmtree(data_dir, ignore_errors=True)

            atexit.register(stop)
            provider = TestIdentityProvider(server.url, server.admin_password)
            provider.server = server
        provider.prepare()
        os.environ["BRIGHTLINE_OIDC_ISSUER"] = provider.issuer
        os.environ["CONSOLE_OIDC_CLIENT_SECRET"] = provider.console_secret
        _PROVIDER = provider
        return provider


def bearer(*roles: Role | str, subject: str = "agent-1001", **claims: Any) -> dict[str, str]:
    """Headers with a real access token issued by the test session's Keycloak for a user with
    these realm roles and claims (staff_no, crew_id, unit_id, department_id, scopes, name)."""
    if Role.INTEGRATION in roles:
        claims.setdefault("scopes", ["*"])  # an integration client allowed everywhere
    claims = {k: v for k, v in claims.items() if v is not None}
    token = identity_provider().token(subject, [str(r) for r in roles], claims)
    return {"Authorization": f"Bearer {token}"}


def sign_in(page: Page, console_url: str, username: str, *roles: Role | str, **claims: Any) -> None:
    """Sign a user in to the console in a Playwright page the way a person does: /auth/login
    redirects to Keycloak's real login page, the user types name and password, Keycloak sends
    the browser back to the console. The user is made in the session's Keycloak with these
    roles (default: supervisor for super-*, agent otherwise) and claims (name, staff_no, ...)."""
    roles = roles or ((Role.SUPERVISOR,) if username.startswith("super-") else (Role.AGENT,))
    password = identity_provider().password(username, *roles, **claims)
    page.goto(f"{console_url.rstrip('/')}/auth/login?next=/")
    page.wait_for_selector("#kc-login")  # Keycloak's own page
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")
    page.wait_for_url(f"{console_url.rstrip('/')}/**")


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (database, migrations, Kafka, consumers) and give a client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@asynccontextmanager
async def counted_database(
    postgres_server: str, name: str, service_dir: Path
) -> AsyncIterator[Any]:
    """A service's database `name` on the test PostgreSQL, migrated to head, and an engine on
    it whose round trips ROUND_TRIPS counts (the counter the benchmark reads): for tests that
    say how many statements a use case sends."""
    from brightline.platform.db import (
        count_round_trips,
        create_engine,
        database_url,
        ensure_database,
        server_url,
    )
    from brightline.platform.migrations import upgrade_async

    server = server_url(postgres_server)
    await ensure_database(server, name)
    url = database_url(server, name)
    await upgrade_async(service_dir, url)
    engine = create_engine(url, pool_size=2)
    count_round_trips(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL of every statement `engine` sends meanwhile, as the driver gets it ($n
    parameters): for tests that ask PostgreSQL how it plans what a use case sends."""
    from sqlalchemy import event

    sent: list[str] = []

    def heard(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", heard)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", heard)


async def generic_plan(connection: AsyncConnection, sql: str) -> list[tuple[str, str | None]]:
    """Every node, as (type, relation), of the plan PostgreSQL makes of `sql` (a statement as
    the driver sends it, $n parameters) for any value of its parameters: the generic plan a
    prepared statement runs on from its sixth execution, when that plan looks no costlier. A
    partial index whose predicate names a bound value is out of its reach; a join it cannot
    size may read a whole table. Run inside a transaction (the setting is its own)."""
    parameters = len(set(re.findall(r"\$(\d+)", sql)))
    await connection.exec_driver_sql(f"PREPARE generic_plan AS {sql}")
    try:
        await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        values = ", ".join(["NULL"] * parameters)
        explained = await connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) EXECUTE generic_plan{f'({values})' if values else ''}"
        )
        (plan,) = explained.scalar_one()
    finally:
        await connection.exec_driver_sql("DEALLOCATE generic_plan")
    nodes: list[tuple[str, str | None]] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append((node["Node Type"], node.get("Relation Name")))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return nodes


async def asgi_post(app: Any, path: str, body: bytes, headers: dict[str, str]) -> int:
    """One POST straight into an ASGI app, as uvicorn's protocol hands it over (no socket, no
    client around it), for counting what the app alone does per request; its answer's status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8001),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8001"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers.items()),
        ],
        "state": {},
    }
    received, status = False, 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await asyncio.Event().wait()  # a disconnect never comes: the client waits
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 30.0, interval: float = 0.2
) -> Any:
    """Poll until check() returns something truthy; fail with the last value otherwise.

    This waits for asynchronous effects (events crossing Kafka); it asserts nothing about speed.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


@asynccontextmanager
async def turns_of_other_work(progress: Callable[[], int]) -> AsyncIterator[list[int]]:
    """What `progress()` read at every turn another task of the process got while the block
    ran (a request or event waiting on the same event loop): `longest_stretch` of the list is
    the most work done without letting it run. Counted, never timed."""
    turns: list[int] = []
    done = asyncio.Event()

    async def other_work() -> None:
        while not done.is_set():
            turns.append(progress())
            await asyncio.sleep(0)

    worker = asyncio.create_task(other_work())
    await asyncio.sleep(0)  # under way before the block's work starts
    try:
        yield turns
    finally:
        done.set()
        await worker


def longest_stretch(turns: list[int]) -> int:
    return max((after - before for before, after in zip(turns, turns[1:], strict=False)), default=0)


class ServiceProcess:
    """A service as its own OS process (`python -m brightline.<name> serve`), as in production."""

    def __init__(self, name: str, port: int, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = port
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import os
        import subprocess
        import sys

        env = {**os.environ, **self.env}
        # A service in a test trusts the session's identity provider, like every other test's.
        env.setdefault("BRIGHTLINE_ENV", "development")
        if not env.get("BRIGHTLINE_OIDC_ISSUER"):
            env["BRIGHTLINE_OIDC_ISSUER"] = identity_provider().issuer
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"brightline.{self.name}", "serve", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (returncode := self.process.poll()) is not None:
                raise RuntimeError(f"{self.name} exited {returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{self.name} not ready within {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except Exception:  # noqa: BLE001
                self.kill()

    def log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except FileNotFoundError:
            return ""


# --- Whole-system tests (tests/security, tests/reliability): every service, found at run time ---

PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
    }
)


def service_names() -> list[str]:
    """Every service of the checkout: services/<name>/ with a brightline.<name>.main module."""
    from brightline.platform.local.paths import project_root

    services = project_root() / "services"
    return sorted(
        p.name
        for p in services.iterdir()
        if (p / "src" / "brightline" / p.name / "main.py").is_file()
    )


def settings_class(name: str) -> type[ServiceSettings]:
    """The settings class a service's create_app(settings) takes."""
    import importlib
    import typing

    create_app = importlib.import_module(f"brightline.{name}.main").create_app
    hint = typing.get_type_hints(create_app)["settings"]
    settings: type[ServiceSettings] = next(
        arg for arg in (typing.get_args(hint) or (hint,)) if arg is not type(None)
    )
    return settings


def service_app(name: str, **settings: Any) -> FastAPI:
    """A fresh app of one service, built by its own create_app with these settings fields."""
    import importlib

    create_app = importlib.import_module(f"brightline.{name}.main").create_app
    app: FastAPI = create_app(settings_class(name)(**settings)) if settings else create_app()
    return app


def allow_rule(dependant: Dependant | None) -> Any:
    """The Allow(...) or Public(...) instance anywhere in a route's dependency tree, or None."""
    from brightline.platform.auth import Allow, Public

    if dependant is None:
        return None
    if isinstance(dependant.call, (Allow, Public)):
        return dependant.call
    for sub in dependant.dependencies:
        if (found := allow_rule(sub)) is not None:
            return found
    return None


def route_rules(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, path, rule) for every non-public route, as the app serves it. The rule is the
    frozenset of allowed roles, a Public(...) marker, or None when nobody decided."""
    from fastapi.routing import iter_route_contexts
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from brightline.platform.auth import Public

    contexts = list(iter_route_contexts(app.routes))  # FastAPI includes routers lazily
    rules = []
    for route in contexts:
        path = getattr(route, "path", None)
        if path in PUBLIC_PATHS or path is None:
            continue
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount) and isinstance(original.app, StaticFiles):
            rules.append(("GET", f"{path}/{{file}}", Public("static files of a web page")))
            continue
        rule = allow_rule(getattr(route, "dependant", None))
        for method in sorted((getattr(route, "methods", None) or {"ANY"}) - {"HEAD", "OPTIONS"}):
            rules.append((method, path, rule.roles if hasattr(rule, "roles") else rule))
    return rules


def unguarded_routes(app: FastAPI) -> list[str]:
    """Routes with neither Allow(...) nor Public(...): nobody decided who may call them."""
    return [f"{method} {path}" for method, path, rule in route_rules(app) if rule is None]
