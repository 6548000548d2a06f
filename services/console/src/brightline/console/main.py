"""Agent softphone and supervisor console: the web UI and its backend-for-frontend."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from brightline.console.adapters.chases import ChaseLog
from brightline.console.adapters.clients import Upstream
from brightline.console.adapters.oidc import OidcClient
from brightline.console.adapters.sessions import WebSessions
from brightline.console.api import (
    answers,
    audit,
    auth,
    cases,
    clocks,
    department,
    desk,
    dispatch_board,
    escalations,
    handover,
    lookup,
    routes,
    wallboard,
)
from brightline.console.live import LiveHub
from brightline.console.settings import ConsoleSettings
from brightline.console.state_feed import StateFeed
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app
from brightline.platform.auth import Public
from brightline.platform.settings import secret_value

SERVICE_DIR = Path(__file__).resolve().parents[3]
# The Vue app (services/console/web), built by `make setup` (npm ci && npm run build).
WEB_DIST = SERVICE_DIR / "web" / "dist"
# Client-side routes of the single-page app: each serves the same index.html.
APP_PATHS = ("/", "/signin", "/desk", "/supervisor", "/wallboard", "/dispatch", "/department")
NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>Brightline console</title>"
    "<p>The console's web app is not built: run <code>make setup</code> "
    "(npm ci &amp;&amp; npm run build in services/console/web).</p>"
)


def web_router(dist: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def index() -> Response:
        """The single page: sign-in, agent desk, supervisor floor, wallboard, dispatcher board
        (public: it holds no data)."""
        page = dist / "index.html"
        if not page.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(page, headers={"Cache-Control": "no-cache"})

    for path in APP_PATHS:
        router.add_api_route(
            path,
            index,
            methods=["GET"],
            dependencies=[Depends(Public("the web app's page itself; it holds no data"))],
        )
    return router


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    # No consumer, no bus: the console owns no business data and commands nothing of its own
    # (it calls the services over HTTP). Its live view (brightline.console.live) reads the
    # topics with a plain consumer of its own per process; what it keeps from events (the
    # floor, escalation outcomes) comes through one durable group (brightline.console.state_feed).
    base = service_lifespan(settings, service_dir=SERVICE_DIR)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with base(app):
            runtime = app.state.runtime
            app.state.chases = ChaseLog(runtime.engine)
            app.state.web_sessions = WebSessions(runtime.engine)
            app.state.session_token = auth.session_token
            app.state.oidc = OidcClient(
                settings.resolved_issuer(),
                settings.oidc_client_id,
                secret_value(settings.oidc_client_secret),
                settings.oidc_discovery_url,
            )
            app.state.upstream = Upstream.from_settings(settings)
            hub = LiveHub(
                settings.kafka_bootstrap_servers,
                settings.kafka_topic_prefix,
                recent=settings.recent_events,
                engine=runtime.engine,
                fetch_pace_seconds=settings.consumer_fetch_pace_ms / 1000,
                ring_limit=timedelta(seconds=settings.ring_no_answer_seconds),
                desk_lost_after=timedelta(seconds=settings.desk_lost_seconds),
                zone=ZoneInfo(settings.business_timezone),
            )
            feed = StateFeed(
                settings.kafka_bootstrap_servers,
                settings.kafka_topic_prefix,
                settings.personal_data_seal(),
                hub.apply_state_event,
                hub.oldest_call,
                fetch_pace_seconds=settings.consumer_fetch_pace_ms / 1000,
            )
            app.state.hub = hub
            await hub.start()
            await feed.start()
            app.state.readiness["live"] = hub.ready
            app.state.readiness["state"] = feed.ready
            try:
                yield
            finally:
                await feed.stop()
                await hub.stop()
                await app.state.upstream.close()
                await app.state.oidc.close()

    app = create_service_app(
        settings,
        title="Brightline console",
        description="Agent softphone and supervisor console: the web UI and its backend-for-frontend.",
        routers=[
            auth.router,
            *routes.routers,
            *desk.routers,
            *lookup.routers,
            wallboard.router,
            clocks.router,
            escalations.router,
            dispatch_board.router,
            cases.router,
            answers.router,
            department.router,
            audit.router,
            handover.router,
            web_router(WEB_DIST),
        ],
        lifespan=lifespan,
    )
    # Hashed file names: the browser may keep them; index.html itself is never cached.
    app.mount("/assets", StaticFiles(directory=WEB_DIST / "assets", check_dir=False), name="assets")
    return app
