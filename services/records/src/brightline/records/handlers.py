"""Records' use cases as plain functions over a unit of work. Entry points commit; these never do."""

from __future__ import annotations

from brightline.messaging import Handler, MessageBus, UnitOfWork
from brightline.records.adapters import repository
from brightline.records.domain import commands
from brightline.records.domain.model import project


async def record_event(command: commands.RecordEvent, uow: UnitOfWork) -> None:
    """Fold one event into the view. Idempotent by itself (entries keyed by event id, latest-wins
    fields), and the consumer's inbox makes a redelivery a no-op before it gets here."""
    await repository.apply(uow.session, project(command.event))


HANDLERS: dict[type, Handler] = {commands.RecordEvent: record_event}


def message_bus() -> MessageBus:
    return MessageBus(HANDLERS)
