from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Call intake. Own knobs carry the INTAKE_ prefix."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", populate_by_name=True, extra="ignore")

    service_name: str = "intake"
    database_name: str = "brightline_intake"
