"""Callback follow-up for every finished ticket, attempts, satisfaction and the callback rate."""

from pathlib import Path

from fastapi import FastAPI

from brightline.callback import consumers, handlers
from brightline.callback.api import routes
from brightline.callback.settings import CallbackSettings
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[3]


def create_app(settings: CallbackSettings | None = None) -> FastAPI:
    settings = settings or CallbackSettings()
    bus = handlers.message_bus(settings)
    app = create_service_app(
        settings,
        title="Brightline callback",
        description="Callback follow-up for every finished ticket, attempts, satisfaction and the callback rate.",
        routers=routes.routers,
        lifespan=service_lifespan(
            settings,
            service_dir=SERVICE_DIR,
            routes=bus.routes(consumers.TRANSLATORS, opening=settings.personal_data_seal().opening),
            topics=consumers.TOPICS,
        ),
    )
    app.state.bus = bus
    return app
