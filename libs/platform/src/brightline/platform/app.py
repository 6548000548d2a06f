"""The FastAPI app every service builds: problem+json errors, health, metrics, stable
operation ids. The service adds its routers and its lifespan."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_fastapi_instrumentator import Instrumentator

from brightline.platform.integration import IntegrationGate
from brightline.platform.limits import BodyLimit, SecurityHeaders
from brightline.platform.problems import RejectNul, install_problem_handlers
from brightline.platform.settings import ServiceSettings
from brightline.platform.telemetry import configure_tracing, instrument_app

ReadinessCheck = Callable[[], Awaitable[bool]]

# Factories of routers included in every service app (see register_service_router).
SERVICE_ROUTERS: list[Callable[[], APIRouter]] = []


def register_service_router(make: Callable[[], APIRouter]) -> None:
    """A library adds a router to every service built with create_service_app from now on."""
    if make not in SERVICE_ROUTERS:
        SERVICE_ROUTERS.append(make)


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
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.readiness = {}
    app.state.integration_gate = IntegrationGate(
        settings.service_name, settings.integration_rate_limit
    )
    install_problem_handlers(app)
    app.add_middleware(RejectNul)  # U+0000 cannot reach PostgreSQL text: 422, never a 500
    app.add_middleware(SecurityHeaders, csp=settings.content_security_policy)
    # Outermost: a body over the limit is refused before authentication or any parsing.
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, paths=settings.body_limits)
    app.include_router(health_router())
    # Routers every service serves, registered by the libraries (brightline.messaging's audit
    # trail of state changes).
    for router in [*routers, *(make() for make in SERVICE_ROUTERS)]:
        app.include_router(router)
    Instrumentator(excluded_handlers=["/metrics", "/healthz", "/readyz"]).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False
    )
    configure_tracing(settings.service_name)
    instrument_app(app, settings.service_name)
    return app


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
        return JSONResponse(
            {"status": "ready" if ready else "not-ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return router
