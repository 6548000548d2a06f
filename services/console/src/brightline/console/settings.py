import os

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import PersonalDataSettings


class ConsoleSettings(PersonalDataSettings):
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
    records_url: str = "http://127.0.0.1:8006"
    upstream_timeout_seconds: float = 10.0
    # Sign-in: the console is a confidential OpenID Connect client of the identity provider.
    oidc_client_id: str = "brightline-console"
    oidc_client_secret: SecretStr | None = Field(
        None, description="The console client's secret, issued and rotated in the identity provider"
    )
    public_url: str | None = Field(
        None,
        description="The console's address as browsers see it (redirect URI base, Secure "
        "cookies for https); unset = the address of the request",
    )
    session_ttl_seconds: int = 12 * 3600
    # The pages load only their own scripts and styles, talk only to their own origin.
    content_security_policy: str | None = (
        "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
        "img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    # The answer limit shown on the softphone clock (the SLA monitor owns the rule itself).
    answer_limit_seconds: int = 12
    # An offer left ringing this long goes to the next ready agent and its seat goes not ready
    # (ring no answer; 8 s is the usual ACD default): four seconds of the 12 remain for the next.
    ring_no_answer_seconds: int = Field(8, ge=1, le=60)
    # A seat whose desk has not been seen this long (no event stream open, no look at the desk,
    # no change of state) goes offline: its agent left without signing out. Past a browser's
    # reconnect and a short network drop; a call in hand keeps its seat.
    desk_lost_seconds: int = Field(60, ge=5, le=3600)
    # How many recent events the live view keeps in memory for boards opened later.
    recent_events: int = 200

    def resolved_issuer(self) -> str:
        issuer = self.oidc_issuer
        if issuer is None and self.is_development:
            issuer = os.environ.get("BRIGHTLINE_OIDC_ISSUER")
        return issuer or "http://127.0.0.1:8080/realms/brightline"

    def secret_problems(self) -> list[str]:
        from brightline.platform.settings import weak_secret

        problems = super().secret_problems()
        secret = self.oidc_client_secret.get_secret_value() if self.oidc_client_secret else None
        if why := weak_secret(secret):
            problems.append(f"CONSOLE_OIDC_CLIENT_SECRET is {why}")
        return problems
