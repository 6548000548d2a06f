"""The FastAPI app every service builds: problem+json errors, health, metrics, stable
operation ids. The service adds its routers and its lifespan.

Outside development the public port serves neither /docs nor /openapi.json nor /metrics:
metrics are on an internal port (METRICS_PORT) that only the cluster's Prometheus reaches."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import start_http_server
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from starlette.types import ASGIApp

from brightline.platform.integration import IntegrationGate
from brightline.platform.limits import BodyLimit, SecurityHeaders
from brightline.platform.problems import RejectNul, install_problem_handlers
from brightline.platform.settings import ServiceSettings
from brightline.platform.telemetry import configure_tracing, instrument_app

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
        lifespan=lifespan if docs else with_metrics_port(settings.metrics_port, lifespan),
        generate_unique_id_function=operation_id,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.readiness = {}
    app.state.readiness_warnings = {}
    app.state.integration_gate = IntegrationGate(
        settings.service_name, settings.integration_rate_limit
    )
    install_problem_handlers(app)
    app.add_middleware(RejectNul)  # U+0000 cannot reach PostgreSQL text: 422, never a 500
    for middleware in SERVICE_MIDDLEWARE:
        app.add_middleware(middleware)
    app.add_middleware(SecurityHeaders, csp=settings.content_security_policy)
    # Outermost: a body over the limit is refused before authentication or any parsing.
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, paths=settings.body_limits)
    app.include_router(health_router())
    # Routers every service serves, registered by the libraries (brightline.messaging's audit
    # trail of state changes).
    for router in [*routers, *(make() for make in SERVICE_ROUTERS)]:
        app.include_router(router)
    http_metrics(app, public=docs)
    # Server spans only when a tracer provider exists (an OTLP endpoint or a test's exporter):
    # without one the instrumentation would build no-op spans at ~0.5 ms per request.
    if configure_tracing(settings.service_name) is not None:
        instrument_app(app, settings.service_name)
    return app


# Latency buckets for the dashboard's p95 (seconds); prometheus_client walks them linearly on
# every observation, so a dozen, not the default set's seventy high-resolution ones.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def http_metrics(app: FastAPI, *, public: bool) -> None:
    """http_requests_total{handler,method,status} and http_request_duration_seconds{handler,
    method}: what the dashboard queries. The instrumentator's other defaults (request and
    response size summaries, a 70-bucket histogram) cost more per request than they tell.
    `public`: /metrics on the app's own port too (development only)."""
    instrumentator = (
        Instrumentator(
            excluded_handlers=["/metrics", "/healthz", "/readyz"],
            should_instrument_requests_inprogress=False,
        )
        .add(metrics.requests())
        .add(metrics.latency(buckets=LATENCY_BUCKETS, should_include_status=False))
        .instrument(app)
    )
    if public:
        instrumentator.expose(app, endpoint="/metrics", include_in_schema=False)


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
