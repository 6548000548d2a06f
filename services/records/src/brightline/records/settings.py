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
    # The read side may trail the events by a tenth of a second (a search finds a new ticket
    # that much later; no promise of the standard is kept here) for fewer, larger
    # transactions: it applies every event of every ticket, four per repair.
    consumer_fetch_pace_ms: float = Field(
        100.0,
        ge=0,
        validation_alias="CONSUMER_FETCH_PACE_MS",
        description="Least time between fetch requests (the read side's staleness under a stream)",
    )
    consumer_batch_size: int = Field(
        200,
        validation_alias="CONSUMER_BATCH_SIZE",
        description="Records of a fetch applied in one transaction",
    )
    page_max: int = Field(200, ge=1, description="Largest page a search returns")
    export_max_rows: int = Field(
        10_000, ge=1, description="Largest result a CSV/XLSX export writes (narrow the search)"
    )
