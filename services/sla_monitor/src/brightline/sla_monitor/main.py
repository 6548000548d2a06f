"""Policy packs, working-day calendar, durable deadline timers, warnings, breaches and KPIs."""

from pathlib import Path

from fastapi import FastAPI

from brightline.sla_monitor import consumers
from brightline.sla_monitor.api import routes
from brightline.sla_monitor.settings import SlaMonitorSettings
from brightline.messaging import service_lifespan
from brightline.platform.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[3]


def create_app(settings: SlaMonitorSettings | None = None) -> FastAPI:
    settings = settings or SlaMonitorSettings()
    return create_service_app(
        settings,
        title="Brightline SLA monitor",
        description="Policy packs, working-day calendar, durable deadline timers, warnings, breaches and KPIs.",
        routers=routes.routers,
        lifespan=service_lifespan(
            settings, service_dir=SERVICE_DIR, routes=consumers.routes(tuple(settings.policy_packs)), topics=consumers.TOPICS
        ),
    )
