from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    """Dispatch. Own knobs carry the DISPATCH_ prefix."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_", populate_by_name=True, extra="ignore")

    service_name: str = "dispatch"
    database_name: str = "brightline_dispatch"
