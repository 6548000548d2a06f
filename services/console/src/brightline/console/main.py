"""Agent softphone and supervisor console: the web UI and its backend-for-frontend."""

from pathlib import Path

from fastapi import FastAPI

from brightline.console import consumers
from brightline.console.api import routes
from brightline.console.settings import ConsoleSettings
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[3]


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    return create_service_app(
        settings,
        title="Brightline console",
        description="Agent softphone and supervisor console: the web UI and its backend-for-frontend.",
        routers=routes.routers,
        lifespan=service_lifespan(
            settings, service_dir=SERVICE_DIR, routes=consumers.ROUTES, topics=consumers.TOPICS
        ),
    )
