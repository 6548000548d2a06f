from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from brightline.contracts.sealed import dev_key, fernet_key_problems
from brightline.platform.settings import PersonalDataSettings

# A development key so the service starts out of the box; production sets CASEWORK_CONTACT_KEY.
DEV_CONTACT_KEY = dev_key("brightline-casework-dev-contact-key")


class CaseworkSettings(PersonalDataSettings):
    """Casework. Own knobs carry the CASEWORK_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CASEWORK_", populate_by_name=True, extra="ignore")

    service_name: str = "casework"
    database_name: str = "brightline_casework"
    contact_key: SecretStr = Field(
        SecretStr(DEV_CONTACT_KEY),
        description="Fernet keys (url-safe base64 of 32 bytes), comma-separated, newest first, "
        "encrypting reporters' identity and contact; the default is development's only",
    )
    # A case's clocks count days, and what casework reads is mostly another service's business
    # (three busy topics, 36 partitions, for the few cases among the repairs): fetched every
    # 50 ms it sent a request for every four tickets at 70 % load (bench, 2026-12-02).
    consumer_fetch_pace_ms: float = Field(
        200.0,
        ge=0,
        validation_alias="CONSUMER_FETCH_PACE_MS",
        description="Least time between fetch requests (a stream's added wait per hop)",
    )
    # The transfer limit is not a setting: it comes from the policy pack in force
    # (brightline.calendar.policy; $BRIGHTLINE_POLICY_PACKS / $BRIGHTLINE_POLICY_PACK_FILES).
    confidentiality_rules: str | None = Field(
        None,
        description="Path to a confidentiality rules YAML; unset = the shipped rules",
    )

    def secret_problems(self) -> list[str]:
        return super().secret_problems() + fernet_key_problems(
            "CASEWORK_CONTACT_KEY", self.contact_key.get_secret_value(), DEV_CONTACT_KEY
        )
