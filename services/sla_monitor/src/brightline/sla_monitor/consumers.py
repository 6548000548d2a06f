"""Events that open, move and close deadlines, and the call and callback facts KPIs need.

One route for every consumed type: log the event (the replay history), keep
the KPI facts, translate to deadline inputs and hand them to the handlers.
The consumer commits after the route returns.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from brightline.contracts import Event
from brightline.contracts.topics import (
    CALLBACK_RATES,
    CALLBACK_TASKS,
    CASEWORK_CASES,
    DISPATCH_OUTAGES,
    DISPATCH_PLANNED_OUTAGES,
    DISPATCH_WORK_ORDERS,
    INTAKE_CALLS,
    INTAKE_TICKETS,
)
from brightline.messaging import Route, UnitOfWork
from brightline.sla_monitor import handlers
from brightline.sla_monitor.adapters.repository import DeadlineRepository, HistoryRepository
from brightline.sla_monitor.domain.policy import PolicyBook
from brightline.sla_monitor.translate import inputs_for

CONSUMED = (
    "brightline.intake.call.ringing.v1",
    "brightline.intake.call.answered.v1",
    "brightline.intake.call.ended.v1",
    "brightline.dispatch.work-order.created.v1",
    "brightline.dispatch.work-order.promoted.v1",
    "brightline.dispatch.work-order.status-changed.v1",
    "brightline.dispatch.work-order.returned.v1",
    "brightline.casework.case.opened.v1",
    "brightline.casework.case.status-changed.v1",
    "brightline.callback.task.created.v1",
    "brightline.callback.outcome.recorded.v1",
    "brightline.callback.rate.computed.v1",
    "brightline.intake.ticket.recorded.v1",
    "brightline.intake.ticket.milestone-recorded.v1",
    "brightline.dispatch.supply.cause-removed.v1",
    "brightline.dispatch.supply.restored.v1",
    "brightline.dispatch.outage.restored.v1",
)

TOPICS = [
    INTAKE_CALLS,
    INTAKE_TICKETS,
    DISPATCH_WORK_ORDERS,
    DISPATCH_OUTAGES,
    DISPATCH_PLANNED_OUTAGES,
    CASEWORK_CASES,
    CALLBACK_TASKS,
    CALLBACK_RATES,
]


async def record_kpi_facts(event: Event, history: HistoryRepository) -> None:
    p = event.payload()
    match event.type:
        case "brightline.intake.call.ringing.v1":
            await history.record_call(p.call_id, queue=p.queue, rang_at=p.rang_at)
        case "brightline.intake.call.answered.v1":
            await history.record_call(
                p.call_id,
                queue=p.queue,
                rang_at=p.rang_at,
                answered_at=p.answered_at,
                answer_delay_seconds=_delay(p),
            )
        case "brightline.intake.call.ended.v1":
            await history.record_call(
                p.call_id,
                queue=p.queue,
                rang_at=p.rang_at,
                answered_at=p.answered_at,
                ended_at=p.ended_at,
                cause=p.cause,
                answer_delay_seconds=_delay(p),
            )
        case "brightline.callback.rate.computed.v1":
            await history.record_callback_rate(
                key=p.key,
                day=p.day,
                unit_id=p.unit_id,
                ticket_type=p.ticket_type,
                finished=p.finished,
                called_back=p.called_back,
                computed_at=p.computed_at,
            )


def _delay(p) -> float | None:
    if p.answer_delay_seconds is not None:
        return p.answer_delay_seconds
    if p.rang_at is not None and p.answered_at is not None:
        return (p.answered_at - p.rang_at).total_seconds()
    return None


async def on_event(
    event: Event,
    uow: UnitOfWork,
    *,
    book: Callable[[], PolicyBook],
    notify: Callable[[datetime | None], None] | None = None,
) -> None:
    history = HistoryRepository(uow.session)
    await history.log(event)
    await record_kpi_facts(event, history)
    store = DeadlineRepository(uow.session)
    in_force = book()  # read per event: a pack adopted meanwhile applies to what opens from now on
    for command in inputs_for(event, in_force):
        for tracked in await handlers.handle(command, store, uow.emit, book=in_force):
            if notify is not None:
                notify(
                    tracked.next_fire_at
                )  # wakes the scheduler if this is due before its next round


def routes(
    packs: tuple[str, ...],
    pack_files: tuple[str, ...] = (),
    notify: Callable[[datetime | None], None] | None = None,
) -> dict[str, Route]:
    """`notify`: told the next fire time of every deadline an event opens or changes (Wakeup.notify)."""
    handlers.policy_book(packs, pack_files)  # a broken pack fails the start, loudly

    def book() -> PolicyBook:
        return handlers.policy_book(packs, pack_files)

    return {event_type: partial(on_event, book=book, notify=notify) for event_type in CONSUMED}
