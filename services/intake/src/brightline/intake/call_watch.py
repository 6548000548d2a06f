"""The watch for lost hangups: a background task of the lifespan that, every
`call_watch_interval_seconds`, gives up the calls still ringing with no word from the switch for
`unanswered_call_limit_seconds`, and the calls answered with no hangup for
`unended_call_limit_seconds` (domain.calls says why). Its state is the calls table, so a restart
loses nothing, and replicas may run it at once: each call is given up under its row lock, once."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from brightline.intake.adapters.repository import CallRepository
from brightline.intake.domain import commands
from brightline.intake.domain.calls import QuietLimits
from brightline.intake.settings import IntakeSettings
from brightline.messaging import MessageBus, ServiceRuntime
from brightline.platform import clock
from brightline.platform.waiting import every

BATCH = 100  # calls looked at a round; a longer backlog is taken in the rounds after


async def give_up_lost_calls(runtime: ServiceRuntime, bus: MessageBus, limits: QuietLimits) -> int:
    """Give up every call found quiet past its limit; one transaction per call. Returns how many."""
    at = clock.now()
    async with runtime.unit_of_work() as uow:
        found = await CallRepository(uow.session).quiet_since_before(
            at - limits.ringing, at - limits.talking, BATCH
        )
    given_up = 0
    for call_id in found:
        async with runtime.unit_of_work() as uow:
            if await bus.handle(commands.GiveUpCall(call_id, limits), uow):
                await uow.commit()
                given_up += 1
    return given_up


def watching_calls(
    runtime: ServiceRuntime, bus: MessageBus, settings: IntakeSettings
) -> contextlib.AbstractAsyncContextManager[None]:
    limits = QuietLimits(
        ringing=timedelta(seconds=settings.unanswered_call_limit_seconds),
        talking=timedelta(seconds=settings.unended_call_limit_seconds),
    )
    return every(
        settings.call_watch_interval_seconds,
        lambda: give_up_lost_calls(runtime, bus, limits),
        name="intake-call-watch",
    )
