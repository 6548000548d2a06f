from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings


class CaseworkSettings(ServiceSettings):
    """Casework. Own knobs carry the CASEWORK_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CASEWORK_", populate_by_name=True, extra="ignore")

    service_name: str = "casework"
    database_name: str = "brightline_casework"
