"""Complaints, reports, opinions, suggestions and praise, with department transfer and reply deadlines."""

from pathlib import Path

from fastapi import FastAPI

from brightline.casework import consumers, handlers
from brightline.casework.adapters.vault import ContactVault
from brightline.casework.api import routes
from brightline.casework.rules import load_confidentiality
from brightline.casework.settings import CaseworkSettings
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[3]


def create_app(settings: CaseworkSettings | None = None) -> FastAPI:
    settings = settings or CaseworkSettings()
    vault = ContactVault(settings.contact_key.get_secret_value(), seal_as=settings.seal_format)
    rules = load_confidentiality(settings.confidentiality_rules)
    bus = handlers.message_bus(settings, vault, rules)
    app = create_service_app(
        settings,
        title="Brightline casework",
        description="Complaints, reports, opinions, suggestions and praise, with department transfer and reply deadlines.",
        routers=routes.routers,
        lifespan=service_lifespan(
            settings,
            service_dir=SERVICE_DIR,
            routes=bus.routes(consumers.TRANSLATORS, opening=settings.personal_data_seal().opening),
            topics=consumers.TOPICS,
        ),
    )
    app.state.bus = bus
    app.state.confidentiality = rules
    return app
