"""Repair dispatch: work orders, crews and their mobile API, arrival deadlines, outage incidents."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from brightline.dispatch import consumers, handlers, scheduler
from brightline.dispatch.api import planned, routes
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[3]


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    bus = handlers.message_bus(settings)
    messaging = service_lifespan(
        settings,
        service_dir=SERVICE_DIR,
        routes=bus.routes(consumers.TRANSLATORS, opening=settings.personal_data_seal().opening),
        topics=consumers.TOPICS,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with messaging(app), scheduler.acceptance_timer(app.state.runtime, bus, settings):
            yield

    app = create_service_app(
        settings,
        title="Brightline dispatch",
        description="Repair dispatch: work orders, crews and their mobile API, arrival deadlines, outage incidents.",
        routers=[*routes.routers, *planned.routers],
        lifespan=lifespan,
    )
    app.state.bus = bus
    return app
