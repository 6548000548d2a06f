from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from brightline.calendar.policy import adopted_book
from brightline.callback.domain.model import CallbackPolicy
from brightline.platform import clock
from brightline.platform.settings import PersonalDataSettings


class PackCallbackPolicy(CallbackPolicy):
    """The callback window, attempts and spacing of the policy pack in force, read when asked.

    Not settings: the pack (brightline.calendar.policy, the one source every service reads;
    $BRIGHTLINE_POLICY_PACKS / $BRIGHTLINE_POLICY_PACK_FILES) says `callback.window`,
    `callback.max_attempts` and `callback.attempt_spacing`. Each read looks at the pack in force
    now, so adopting a new pack changes them for the tasks created from then on."""

    _lease: timedelta

    def __init__(self, lease: timedelta) -> None:
        object.__setattr__(self, "_lease", lease)

    @staticmethod
    def _pack():
        return adopted_book().in_force(clock.now())

    @property
    def window(self) -> timedelta:
        return self._pack().limit("callback.window").fixed_span() or timedelta(
            days=self._pack().limit("callback.window").amount
        )

    @property
    def max_attempts(self) -> int:
        return int(self._pack().parameter("callback.max_attempts").value)

    @property
    def attempt_spacing(self) -> timedelta:
        return self._pack().parameter("callback.attempt_spacing").as_timedelta()

    @property
    def lease(self) -> timedelta:
        return self._lease


class CallbackSettings(PersonalDataSettings):
    """Callback. Own knobs carry the CALLBACK_ prefix.

    The window, attempts and spacing are not knobs here: they come from the policy pack in force
    (PackCallbackPolicy). Only the agent's lease on a task, a matter of this service's own
    worklist, is a setting.
    """

    model_config = SettingsConfigDict(env_prefix="CALLBACK_", populate_by_name=True, extra="ignore")

    service_name: str = "callback"
    database_name: str = "brightline_callback"

    # Said in the callback's opening: "您好！我是{unit_name}95598供电服务热线{staff_no}号客服代表".
    unit_name: str = "国网供电公司"
    unit_name_en: str = "State Grid"
    lease_seconds: float = Field(
        600, gt=0, description="How long an agent holds a task before it returns to the pool"
    )
    # What callback reads opens work for later (a task due within days, counted from when the
    # ticket finished, not from when callback heard of it; a contact to call): no clock runs on
    # how soon it hears. Every repair ticket brings it a record: fetched every 50 ms it sent
    # twice dispatch's fetches a ticket (tests/bench/README.md, 2026-12-04).
    consumer_fetch_pace_ms: float = Field(
        200.0,
        ge=0,
        validation_alias="CONSUMER_FETCH_PACE_MS",
        description="Least time between fetch requests (how much later callback may learn of "
        "a ticket's contact or a finished ticket under a stream)",
    )

    def policy(self) -> CallbackPolicy:
        return PackCallbackPolicy(lease=timedelta(seconds=self.lease_seconds))
