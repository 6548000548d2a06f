"""The acceptance timeout as a durable job: deadlines live in Postgres (work_orders.accept_by),
and a background task in the lifespan scans them, so a restart loses no timer."""

from __future__ import annotations

import contextlib
from datetime import datetime

from brightline.dispatch import metrics
from brightline.dispatch.adapters.repository import WorkOrderRepository
from brightline.dispatch.domain import commands
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging import MessageBus, ServiceRuntime
from brightline.platform import clock
from brightline.platform.waiting import every


def _waited(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since else 0.0


async def scan_once(runtime: ServiceRuntime, bus: MessageBus) -> int:
    """Reassign every overdue order and give waiting orders a crew; one transaction per order."""
    done = 0
    async with runtime.unit_of_work() as uow:
        overdue = await WorkOrderRepository(uow.session).overdue_acceptances(clock.now())
        # The alarm gauges follow the database, whatever process routed, cancelled or
        # reviewed an order.
        orders = WorkOrderRepository(uow.session)
        metrics.ORDERS_NEEDING_ROUTING.set(await orders.count_needing_routing())
        now = clock.now()
        returns, since = await orders.backlog("awaiting_review")
        metrics.RETURNS_AWAITING_REVIEW.set(returns)
        metrics.OLDEST_RETURN_AWAITING_REVIEW.set(_waited(now, since))
        requests, since = await orders.backlog("cancel_requested")
        metrics.CANCEL_REQUESTS_WAITING.set(requests)
        metrics.OLDEST_CANCEL_REQUEST_WAITING.set(_waited(now, since))
    for order_id in overdue:
        async with runtime.unit_of_work() as uow:
            await bus.handle(commands.ExpireAcceptance(order_id, clock.now()), uow)
            await uow.commit()
            done += 1
    async with runtime.unit_of_work() as uow:
        waiting = await WorkOrderRepository(uow.session).unassigned_leads()
    for order_id in waiting:
        async with runtime.unit_of_work() as uow:
            if await bus.handle(commands.AssignWaiting(order_id), uow):
                await uow.commit()
                done += 1
    return done


def acceptance_timer(
    runtime: ServiceRuntime, bus: MessageBus, settings: DispatchSettings
) -> contextlib.AbstractAsyncContextManager[None]:
    return every(
        settings.scan_interval_seconds,
        lambda: scan_once(runtime, bus),
        name="dispatch-acceptance-timer",
    )
