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
