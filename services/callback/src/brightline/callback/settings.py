from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings


class CallbackSettings(ServiceSettings):
    """Callback. Own knobs carry the CALLBACK_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CALLBACK_", populate_by_name=True, extra="ignore")

    service_name: str = "callback"
    database_name: str = "brightline_callback"
