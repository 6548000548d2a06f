"""Complaints, reports, opinions, suggestions and praise, with department transfer and reply deadlines."""

from pathlib import Path

from fastapi import FastAPI

from brightline.casework import consumers
from brightline.casework.adapters.vault import ContactVault
from brightline.casework.api import routes
from brightline.casework.rules import load_confidentiality
from brightline.casework.settings import CaseworkSettings
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[3]


def create_app(settings: CaseworkSettings | None = None) -> FastAPI:
    settings = settings or CaseworkSettings()
    vault = ContactVault(settings.contact_key.get_secret_value())
    app = create_service_app(
        settings,
        title="Brightline casework",
        description="Complaints, reports, opinions, suggestions and praise, with department transfer and reply deadlines.",
        routers=routes.routers,
        lifespan=service_lifespan(
            settings,
            service_dir=SERVICE_DIR,
            routes=consumers.routes(
                seal=settings.personal_data_seal(), vault=vault, tz=settings.business_timezone
            ),
            topics=consumers.TOPICS,
        ),
    )
    app.state.vault = vault
    app.state.confidentiality = load_confidentiality(settings.confidentiality_rules)
    return app
