"""The intake service: calls, greetings, scripts and tickets as first recorded."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from brightline.intake import call_watch, consumers, handlers
from brightline.intake.adapters.rule_files import scripts
from brightline.intake.api import routes
from brightline.intake.settings import IntakeSettings
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[3]


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    # The call scripts and the forbidden phrases are read now: a broken file stops the start,
    # and the first call after a start does not wait for the YAML to be parsed.
    scripts()
    handlers.phrase_book_at(settings.forbidden_phrases_file)
    bus = handlers.message_bus(settings)
    messaging = service_lifespan(
        settings,
        service_dir=SERVICE_DIR,
        routes=bus.routes(consumers.TRANSLATORS),
        topics=consumers.TOPICS,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with messaging(app), call_watch.watching_calls(app.state.runtime, bus, settings):
            yield

    app = create_service_app(
        settings,
        title="Brightline intake",
        description="Call intake for the 95598 hotline: CTI events, greetings, scripts, tickets.",
        routers=routes.routers,
        lifespan=lifespan,
    )
    app.state.bus = bus
    return app
