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
        description="Fernet key (url-safe base64 of 32 bytes) encrypting reporters' identity and contact",
    )
    # The transfer limit is not a setting: it comes from the policy pack in force
    # (brightline.calendar.policy; $BRIGHTLINE_POLICY_PACKS / $BRIGHTLINE_POLICY_PACK_FILES).
    confidentiality_rules: str | None = Field(
        None,
        description="Path to a confidentiality rules YAML; unset = the shipped rules",
    )
