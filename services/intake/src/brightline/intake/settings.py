from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import PersonalDataSettings


class IntakeSettings(PersonalDataSettings):
    """Call intake. Own knobs carry the INTAKE_ prefix."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", populate_by_name=True, extra="ignore")

    service_name: str = "intake"
    database_name: str = "brightline_intake"
    # Said in the opening line: "…，{unit_name}95598，{staff_no}号为您服务".
    unit_name: str = "国网供电公司"
    unit_name_en: str = "State Grid"
    # A utility's own forbidden-phrase book (YAML, the etiquette format); empty = the shipped one.
    forbidden_phrases_file: str = ""
    # A number is a repeat caller when it called this many hours before (or has an open ticket).
    repeat_call_window_hours: int = 72
    # A call still ringing with no further word from the switch this long lost its hangup
    # (brightline.intake.call_watch): far beyond any queue's hold, so a caller really waiting in
    # a storm is never ended, and a phantom leaves the floor within the hour.
    unanswered_call_limit_seconds: float = Field(
        3600,
        gt=0,
        description="A call ringing this long with no word from the switch after its newCall "
        "is ended as abandoned (its hangup was lost)",
    )
    # An answered call's hangup lost the same way (or with the agent's softphone): far beyond any
    # call a hotline agent holds, so a long complaint is never cut, and the floor stops showing
    # a call "talking" for ever.
    unended_call_limit_seconds: float = Field(
        4 * 3600,
        gt=0,
        description="An answered call with no hangup from the switch this long after its answer "
        "is ended as normal (its hangup was lost)",
    )
    call_watch_interval_seconds: float = Field(
        60, gt=0, description="Time between two looks for calls whose hangup was lost"
    )
    # What intake reads is other services' news about its tickets (work orders and outages for
    # the caller card and repeat-call linking, callback's reopen requests, casework's case
    # status): no clock of the standard runs on it, and a repeat call that comes before intake
    # knows of its outage is still folded into the incident by dispatch. Its consumer shares the
    # event loop with the agents' POSTs: fetched every 50 ms it applied a batch per ten tickets;
    # at 200 ms, with 4x fewer fetches, intake took 0.2-0.6 ms less CPU a ticket at 70 % load
    # in three bench pairs (2026-12-04, tests/bench/README.md).
    consumer_fetch_pace_ms: float = Field(
        200.0,
        ge=0,
        validation_alias="CONSUMER_FETCH_PACE_MS",
        description="Least time between fetch requests (how much later intake may learn of "
        "a work order, an outage or a case's status under a stream)",
    )
