"""The FastAPI app every service builds: problem+json errors, health, metrics, stable
operation ids. The service adds its routers and its lifespan.

Outside development the public port serves neither /docs nor /openapi.json nor /metrics:
metrics are on an internal port (METRICS_PORT) that only the cluster's Prometheus reaches."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from timeit import default_timer

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brightline.platform import heap, loop_lag
from brightline.platform.admission import Admission, default_inflight, overloaded
from brightline.platform.integration import IntegrationGate
from brightline.platform.limits import RequestGuard, security_headers
from brightline.platform.problems import install_problem_handlers, problem_response
from brightline.platform.settings import ServiceSettings
from brightline.platform.telemetry import SERVER_SPANS, configure_tracing, tag_service

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]
# A condition an operator must act on that does not make the service unready (e.g. the working-day
# calendar ends in 40 days): returns a message, or None when all is well.
ReadinessWarning = Callable[[], str | None]

# Factories of routers included in every service app (see register_service_router).
SERVICE_ROUTERS: list[Callable[[], APIRouter]] = []


def register_service_router(make: Callable[[], APIRouter]) -> None:
    """A library adds a router to every service built with create_service_app from now on."""
    if make not in SERVICE_ROUTERS:
        SERVICE_ROUTERS.append(make)


# ASGI middleware classes added to every service app (brightline.messaging's audit trail).
SERVICE_MIDDLEWARE: list[Callable[[ASGIApp], ASGIApp]] = []


def register_service_middleware(middleware: Callable[[ASGIApp], ASGIApp]) -> None:
    if middleware not in SERVICE_MIDDLEWARE:
        SERVICE_MIDDLEWARE.append(middleware)


def operation_id(route: APIRoute) -> str:
    """`{tag}-{name}`: stable ids that generated clients can rely on."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    version: str = "0.1.0",
) -> FastAPI:
    docs = settings.is_development  # API docs are for development; contracts live in docs/
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=settled(lifespan if docs else with_metrics_port(settings.metrics_port, lifespan)),
        generate_unique_id_function=operation_id,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        telemetry=SERVER_SPANS,
    )
    app.state.settings = settings
    app.state.readiness = {}
    app.state.readiness_warnings = {}
    app.state.integration_gate = IntegrationGate(
        settings.service_name, settings.integration_rate_limit
    )
    install_problem_handlers(app)
    for middleware in SERVICE_MIDDLEWARE:
        app.add_middleware(middleware)
    # Outermost: every response counted and timed, and given the security headers; a body over
    # the limit refused before authentication or any parsing, and U+0000, which PostgreSQL text
    # cannot hold, refused with a 422, never a 500.
    app.add_middleware(
        HttpEdge,
        csp=settings.content_security_policy,
        service_name=settings.service_name,
        admission=Admission(
            settings.http_max_inflight or default_inflight(settings.db_pool_size),
            settings.http_max_queued,
            settings.http_queue_seconds,
        ),
        guard=RequestGuard(settings.max_body_bytes, settings.body_limits),
    )
    app.include_router(health_router())
    # Routers every service serves, registered by the libraries (brightline.messaging's audit
    # trail of state changes).
    for router in [*routers, *(make() for make in SERVICE_ROUTERS)]:
        app.include_router(router)
    if docs:  # /metrics on the app's own port too (development only)
        app.add_route("/metrics", metrics_page, include_in_schema=False)
    # Server spans (FastAPI's own, SERVER_SPANS) only when a tracer provider exists: the SDK's,
    # unless OTEL_SDK_DISABLED.
    configure_tracing(settings.service_name)
    return app


# Latency buckets for the dashboard's p95 (seconds); prometheus_client walks them linearly on
# every observation, so a dozen, not the default set's seventy high-resolution ones.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# What the dashboard queries (the default registry, once per process however many apps it
# builds): http_requests_total{handler,method,status} (status grouped: 2xx, 4xx, 5xx) and
# http_request_duration_seconds{handler,method}; handler is the route's path template, "none"
# for a request no route serves.
REQUESTS = Counter(
    "http_requests_total",
    "Total number of requests by method, status and handler.",
    ["method", "status", "handler"],
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Duration of HTTP requests in seconds",
    ["method", "handler"],
    buckets=LATENCY_BUCKETS,
)
UNMEASURED = frozenset({"/metrics", "/healthz", "/readyz"})


class HttpEdge:
    """ASGI middleware, outermost: admission, the request guard (body limit, NUL), the request
    metrics and the security headers (`csp` too when given: the console's pages) in one layer.
    It replaces the Prometheus instrumentator, a headers middleware and the body limit's and
    the NUL check's layers: each layer costs every request a call, a closure and a wrapped
    send, and the instrumentator matched the path against every route again to name it, where
    the route the router chose is in the scope once the app has run."""

    def __init__(
        self,
        app: ASGIApp,
        service_name: str,
        csp: str | None = None,
        admission: Admission | None = None,
        guard: RequestGuard | None = None,
    ) -> None:
        self.app = app
        self.service_name = service_name
        self.headers = security_headers(csp)
        self.admission = admission
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = default_timer()
        tag_service(self.service_name)
        status = 500  # what the client gets when the app raises before answering
        # Probes and metrics never queue: a pod in a storm is busy, not dead.
        admission = self.admission if scope["path"] not in UNMEASURED else None
        shedding = admission is not None and not await admission.enter()
        if shedding:
            admission = None

        async def edge_send(message: Message) -> None:
            nonlocal status, admission
            if message["type"] == "http.response.start":
                # The answer is ready: the next request's turn (a stream goes on outside it).
                if admission is not None:
                    admission.leave()
                    admission = None
                status = message["status"]
                headers = message.get("headers", [])
                present = {name.lower() for name, _ in headers}
                message["headers"] = [
                    *headers,
                    *((n, v) for n, v in self.headers if n not in present),
                ]
            await send(message)

        try:
            if shedding:
                await shed(scope, receive, edge_send)
            elif self.guard is None:
                await self.app(scope, receive, edge_send)
            elif (admitted := await self.guard.admit(scope, receive, edge_send)) is not None:
                await self.app(scope, admitted, edge_send)
        finally:
            if admission is not None:  # the app failed before answering
                admission.leave()
            handler = _handler(scope)
            if handler not in UNMEASURED:
                requests, duration = _series(scope["method"], status // 100, handler)
                requests.inc()
                duration.observe(max(default_timer() - started, 0.0))


@lru_cache(maxsize=4096)  # bounded: a client can make up methods and paths
def _series(method: str, status_class: int, handler: str) -> tuple[Counter, Histogram]:
    """The counter and the histogram of one kind of request, found once: labels() checks its
    values and takes a lock on every call, more than the increment and the observation cost."""
    return (
        REQUESTS.labels(method, f"{status_class}xx", handler),
        DURATION.labels(method, handler),
    )


async def shed(scope: Scope, receive: Receive, send: Send) -> None:
    problem = overloaded()
    await problem_response(problem, Request(scope), problem.headers)(scope, receive, send)


def _handler(scope: Scope) -> str:
    """The template of the route the router chose (for a 405 too: the route of another method);
    a request refused before routing (a 413) is matched against the routes, as the Prometheus
    instrumentator matched every request; "none" when no route has its path."""
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path", "none"))
    return get_route_name(Request(scope), should_include_root_path=False) or "none"


async def metrics_page(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def settled(
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The service's lifespan, with its heap frozen once it has started (brightline.platform.heap)
    and its event loop's lag observed while it runs (brightline.platform.loop_lag)."""

    @asynccontextmanager
    async def started(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app), loop_lag.watched():
            heap.settle()
            yield

    return started


def with_metrics_port(
    port: int, lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The service's lifespan, plus the default registry served on the internal `port` for as
    long as the app runs (prometheus_client's own server, in a thread)."""

    @asynccontextmanager
    async def serving_metrics(app: FastAPI) -> AsyncIterator[None]:
        try:
            serving = start_http_server(port)
        except OSError as error:
            # Several uvicorn workers of one pod: the first one serves; the others say so.
            log.warning("metrics port %s not served by this process: %s", port, error)
            serving = None
        try:
            async with lifespan(app):
                yield
        finally:
            if serving is not None:
                server, thread = serving
                server.shutdown()
                server.server_close()
                thread.join()

    return serving_metrics


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: every registered check (database, producer, consumer assignment) passes."""
        checks: dict[str, ReadinessCheck] = request.app.state.readiness
        results: dict[str, bool] = {}
        for name, check in checks.items():
            try:
                results[name] = bool(await check())
            except Exception:  # noqa: BLE001 - a failing check means "not ready", not a 500
                results[name] = False
        ready = bool(results) and all(results.values())
        warnings = {}
        for name, warn in getattr(request.app.state, "readiness_warnings", {}).items():
            if (message := warn()) is not None:
                warnings[name] = message
        return JSONResponse(
            {"status": "ready" if ready else "not-ready", "checks": results}
            | ({"warnings": warnings} if warnings else {}),
            status_code=200 if ready else 503,
        )

    return router
