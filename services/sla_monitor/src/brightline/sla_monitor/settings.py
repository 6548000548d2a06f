from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brightline.calendar.policy import adopted_pack_files, adopted_pack_names
from brightline.platform.settings import ServiceSettings


class SlaMonitorSettings(ServiceSettings):
    """Sla monitor. Own knobs carry the SLA_ prefix."""

    model_config = SettingsConfigDict(env_prefix="SLA_", populate_by_name=True, extra="ignore")

    service_name: str = "sla_monitor"
    database_name: str = "brightline_sla_monitor"
    # A ticket's deadline opens when its event is applied here: the end of the recorded ->
    # deadline-opened chain the benchmark holds to 250 ms at p99, so a stream is paced less.
    consumer_fetch_pace_ms: float = Field(
        5.0,
        ge=0,
        validation_alias="CONSUMER_FETCH_PACE_MS",
        description="Least time between fetch requests (a stream's added wait per hop)",
    )
    # The packs adopted, each applying from its effective date. By default the centre-wide
    # $BRIGHTLINE_POLICY_PACKS / $BRIGHTLINE_POLICY_PACK_FILES that casework and callback read too
    # (one source of truth); set here only to run this service alone on other packs (tests).
    policy_packs: list[str] = Field(default_factory=adopted_pack_names)
    # Extra packs from files outside the package (a centre's own edition, a drill pack with short
    # limits); they join the book like shipped packs, each from its effective date.
    policy_pack_files: list[str] = Field(default_factory=adopted_pack_files)
    scheduler_enabled: bool = True
    # the longest the scheduler sleeps; it wakes sooner when a fire time is due sooner
    scheduler_interval_seconds: float = 0.25
    scheduler_batch: int = 200
    kpi_refresh_seconds: float = 15.0  # how often the /metrics gauges are recomputed (last 24 h)
