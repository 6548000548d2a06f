from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings


class SlaMonitorSettings(ServiceSettings):
    """Sla monitor. Own knobs carry the SLA_ prefix."""

    model_config = SettingsConfigDict(env_prefix="SLA_", populate_by_name=True, extra="ignore")

    service_name: str = "sla_monitor"
    database_name: str = "brightline_sla_monitor"
    policy_packs: list[str] = ["seed"]  # adopted packs; each applies from its effective date
    # Extra packs from files outside the package (a centre's own edition, a drill pack with short limits);
    # they join the book like shipped packs, each from its effective date.
    policy_pack_files: list[str] = []
    scheduler_enabled: bool = True
    # the longest the scheduler sleeps; it wakes sooner when a fire time is due sooner
    scheduler_interval_seconds: float = 0.25
    scheduler_batch: int = 200
    kpi_refresh_seconds: float = 15.0  # how often the /metrics gauges are recomputed (last 24 h)
