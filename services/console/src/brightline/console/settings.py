from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    """Console. Own knobs carry the CONSOLE_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", populate_by_name=True, extra="ignore")

    service_name: str = "console"
    database_name: str = "brightline_console"
