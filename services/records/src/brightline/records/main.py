"""Records, the read side: every topic folded into a ticket view and one timeline per ticket;
search by 工单号, phone, name, address and more; exports; confidentiality as in casework."""

from pathlib import Path

from fastapi import FastAPI

from brightline.confidentiality import load_confidentiality
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app
from brightline.records import consumers, handlers
from brightline.records.api import routes
from brightline.records.settings import RecordsSettings

SERVICE_DIR = Path(__file__).resolve().parents[3]


def create_app(settings: RecordsSettings | None = None) -> FastAPI:
    settings = settings or RecordsSettings()
    bus = handlers.message_bus()
    app = create_service_app(
        settings,
        title="Brightline records",
        description="The read side: find any ticket by 工单号, phone, name or address, and see its "
        "whole life across every service in one timeline.",
        routers=routes.routers,
        lifespan=service_lifespan(
            settings,
            service_dir=SERVICE_DIR,
            routes=bus.routes(consumers.TRANSLATORS, opening=settings.personal_data_seal().opening),
            topics=consumers.TOPICS,
            fallback=bus.route(consumers.FALLBACK, settings.personal_data_seal().opening),
        ),
    )
    app.state.bus = bus
    app.state.confidentiality = load_confidentiality(settings.confidentiality_rules)
    return app
