from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    """Console. Own knobs carry the CONSOLE_ prefix (CONSOLE_INTAKE_URL, ...)."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", populate_by_name=True, extra="ignore")

    service_name: str = "console"
    database_name: str = "brightline_console"
    # Where the BFF finds the other services (the user's bearer token is forwarded to them).
    intake_url: str = "http://127.0.0.1:8001"
    dispatch_url: str = "http://127.0.0.1:8002"
    casework_url: str = "http://127.0.0.1:8003"
    callback_url: str = "http://127.0.0.1:8004"
    sla_url: str = "http://127.0.0.1:8005"
    upstream_timeout_seconds: float = 10.0
    # Demo agents and supervisors are created at start when the user directory is empty.
    seed_demo_users: bool = True
    session_ttl_seconds: int = 12 * 3600
    # The answer limit shown on the softphone clock (the SLA monitor owns the rule itself).
    answer_limit_seconds: int = 12
    # How many recent events the live view keeps in memory for boards opened later.
    recent_events: int = 200
