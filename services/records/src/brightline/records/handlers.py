"""Records' use cases as plain functions over a unit of work. Entry points commit; these never do."""

from __future__ import annotations

from brightline.messaging import Handler, MessageBus, UnitOfWork
from brightline.messaging.audit import note_insert
from brightline.records.adapters import repository
from brightline.records.domain import commands
from brightline.records.domain.model import project

# The unit of work's Fold (session.info: one per unit of work, as its session is).
FOLDING = "records_fold"


async def record_event(command: commands.RecordEvent, uow: UnitOfWork) -> None:
    """Fold one event into the view. Idempotent by itself (entries keyed by event id, latest-wins
    fields), and the consumer's inbox makes a redelivery a no-op before it gets here. Every
    event of a consumer's batch is gathered and written at commit, riding on its last
    statement (the inbox claim's, with the audit rows): per event it cost a statement, its ORM
    execution and its change capture (~0.3 ms of CPU each); as a statement of its own, a round
    trip per batch more."""
    fold: repository.Fold | None = uow.session.info.get(FOLDING)
    if fold is None:
        fold = uow.session.info[FOLDING] = repository.Fold()
        gathered = fold
        uow.ride(lambda: repository.riding(gathered))
    note_insert(uow.session, "timeline", fold.add(project(command.event)), copied=("data",))


HANDLERS: dict[type, Handler] = {commands.RecordEvent: record_event}


def message_bus() -> MessageBus:
    return MessageBus(HANDLERS)
