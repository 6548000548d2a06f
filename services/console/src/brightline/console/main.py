"""Agent softphone and supervisor console: the web UI and its backend-for-frontend."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from brightline.console import consumers
from brightline.console.adapters.chases import ChaseLog
from brightline.console.adapters.clients import Upstream
from brightline.console.adapters.oidc import OidcClient
from brightline.console.adapters.sessions import WebSessions
from brightline.console.api import auth, routes
from brightline.console.live import LiveHub
from brightline.console.settings import ConsoleSettings
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app
from brightline.platform.auth import Public
from brightline.platform.settings import secret_value

SERVICE_DIR = Path(__file__).resolve().parents[3]
WEB_DIR = Path(__file__).resolve().parent / "web"


def web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", dependencies=[Depends(Public("the page itself; it holds no data"))])
    async def index() -> FileResponse:
        """The single page: softphone, supervisor console (public: it holds no data; its API
        calls need the session that /auth/login opens)."""
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return router


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    base = service_lifespan(
        settings, service_dir=SERVICE_DIR, routes=consumers.ROUTES, topics=consumers.TOPICS
    )

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
            )
            app.state.hub = hub
            await hub.start()
            app.state.readiness["live"] = hub.ready
            try:
                yield
            finally:
                await hub.stop()
                await app.state.upstream.close()
                await app.state.oidc.close()

    app = create_service_app(
        settings,
        title="Brightline console",
        description="Agent softphone and supervisor console: the web UI and its backend-for-frontend.",
        routers=[auth.router, *routes.routers, web_router()],
        lifespan=lifespan,
    )
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    return app
