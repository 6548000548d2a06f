from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings


class SlaMonitorSettings(ServiceSettings):
    """Sla monitor. Own knobs carry the SLA_ prefix."""

    model_config = SettingsConfigDict(env_prefix="SLA_", populate_by_name=True, extra="ignore")

    service_name: str = "sla_monitor"
    database_name: str = "brightline_sla_monitor"
    policy_packs: list[str] = ["seed"]  # adopted packs; each applies from its effective date
