from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import PersonalDataSettings


class RecordsSettings(PersonalDataSettings):
    """Records, the read side. Own knobs carry the RECORDS_ prefix."""

    model_config = SettingsConfigDict(env_prefix="RECORDS_", populate_by_name=True, extra="ignore")

    service_name: str = "records"
    database_name: str = "brightline_records"

    confidentiality_rules: str | None = Field(
        None,
        description="Path to a confidentiality rules YAML; unset = the shipped rules "
        "(brightline.confidentiality, the same file casework reads)",
    )
    page_max: int = Field(200, ge=1, description="Largest page a search returns")
    export_max_rows: int = Field(
        10_000, ge=1, description="Largest result a CSV/XLSX export writes (narrow the search)"
    )
