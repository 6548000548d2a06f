"""Events that open, move and close deadlines, translated into commands."""

from functools import partial

from brightline.contracts import Event
from brightline.contracts.topics import DISPATCH_WORK_ORDERS
from brightline.messaging import Route, UnitOfWork
from brightline.sla_monitor import handlers
from brightline.sla_monitor.domain import commands


async def on_work_order_created(event: Event, uow: UnitOfWork, *, packs: tuple[str, ...]) -> None:
    order = event.payload()
    await handlers.open_deadline_for(
        commands.OpenDeadline(
            limit_key=f"repair.arrival.{order.area_class}", subject_type="work_order",
            subject_id=order.work_order_id, ticket_id=order.ticket_id, opened_at=order.created_at,
        ),
        uow,
        book=handlers.policy_book(packs),
    )


TOPICS = [DISPATCH_WORK_ORDERS]


def routes(packs: tuple[str, ...]) -> dict[str, Route]:
    return {
        "brightline.dispatch.work-order.created.v1": partial(on_work_order_created, packs=packs),
    }
