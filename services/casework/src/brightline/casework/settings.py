import base64
import hashlib

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings

# A development key so the service starts out of the box; production sets CASEWORK_CONTACT_KEY.
DEV_CONTACT_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"brightline-casework-dev-contact-key").digest()
).decode()


class CaseworkSettings(ServiceSettings):
    """Casework. Own knobs carry the CASEWORK_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CASEWORK_", populate_by_name=True, extra="ignore")

    service_name: str = "casework"
    database_name: str = "brightline_casework"
    contact_key: SecretStr = Field(
        SecretStr(DEV_CONTACT_KEY),
        description="Fernet keys (url-safe base64 of 32 bytes), comma-separated, newest first, "
        "encrypting reporters' identity and contact; the default is development's only",
    )
    # The transfer limit is not a setting: it comes from the policy pack in force
    # (brightline.calendar.policy; $BRIGHTLINE_POLICY_PACKS / $BRIGHTLINE_POLICY_PACK_FILES).
    confidentiality_rules: str | None = Field(
        None,
        description="Path to a confidentiality rules YAML; unset = the shipped rules",
    )

    def secret_problems(self) -> list[str]:
        from cryptography.fernet import Fernet

        problems = super().secret_problems()
        keys = [k.strip() for k in self.contact_key.get_secret_value().split(",") if k.strip()]
        if not keys or DEV_CONTACT_KEY in keys:
            problems.append("CASEWORK_CONTACT_KEY is missing or the development key")
        for key in keys:
            try:
                Fernet(key.encode())
            except ValueError:
                problems.append("CASEWORK_CONTACT_KEY holds a value that is not a Fernet key")
                break
        return problems
