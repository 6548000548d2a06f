from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brightline.callback.domain.model import CallbackPolicy
from brightline.platform.settings import ServiceSettings


class CallbackSettings(ServiceSettings):
    """Callback. Own knobs carry the CALLBACK_ prefix.

    The window and attempt defaults MIRROR the seed policy pack of the SLA monitor
    (services/sla_monitor/.../policy_packs/seed.yaml: `callback.window` 24 h,
    `callback.max_attempts` 3, `callback.attempt_spacing` 2 h). Callback does not import the
    SLA monitor; an operator running another pack sets CALLBACK_WINDOW_HOURS etc. to match it.
    """

    model_config = SettingsConfigDict(env_prefix="CALLBACK_", populate_by_name=True, extra="ignore")

    service_name: str = "callback"
    database_name: str = "brightline_callback"

    window_hours: float = Field(
        24, gt=0, description="Call back within this many hours of completion (seed pack)"
    )
    max_attempts: int = Field(
        3, ge=1, description="Attempts before a task ends unreachable (seed pack)"
    )
    attempt_spacing_hours: float = Field(
        2, ge=0, description="Minimum gap between two attempts (seed pack)"
    )
    # Said in the callback's opening: "您好！我是{unit_name}95598供电服务热线{staff_no}号客服代表".
    unit_name: str = "国网供电公司"
    unit_name_en: str = "State Grid"
    lease_seconds: float = Field(
        600, gt=0, description="How long an agent holds a task before it returns to the pool"
    )

    def policy(self) -> CallbackPolicy:
        return CallbackPolicy(
            window=timedelta(hours=self.window_hours),
            max_attempts=self.max_attempts,
            attempt_spacing=timedelta(hours=self.attempt_spacing_hours),
            lease=timedelta(seconds=self.lease_seconds),
        )
