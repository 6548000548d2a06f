"""The SLA monitor's use cases as plain functions over a unit of work."""

from __future__ import annotations

import uuid
from functools import cache

from brightline.contracts.events.sla import DeadlineOpenedV1
from brightline.messaging import UnitOfWork
from brightline.sla_monitor.adapters.repository import DeadlineRepository
from brightline.sla_monitor.domain import commands
from brightline.sla_monitor.domain.deadlines import open_deadline
from brightline.sla_monitor.domain.policy import PolicyBook, load_pack


@cache
def policy_book(pack_names: tuple[str, ...]) -> PolicyBook:
    return PolicyBook([load_pack(name) for name in pack_names])


async def open_deadline_for(command: commands.OpenDeadline, uow: UnitOfWork, *, book: PolicyBook) -> None:
    repository = DeadlineRepository(uow.session)
    if await repository.exists(command.subject_type, command.subject_id, command.limit_key):
        return  # one deadline per subject and limit, however often the cause is replayed
    pack = book.in_force(command.opened_at)
    deadline, _ = open_deadline(
        deadline_id=str(uuid.uuid4()), ticket_id=command.ticket_id or command.subject_id,
        limit=pack.limit(command.limit_key), policy=pack.ref, opened_at=command.opened_at,
    )
    await repository.add(deadline=deadline, subject_type=command.subject_type, subject_id=command.subject_id)
    uow.emit(DeadlineOpenedV1(
        deadline_id=deadline.deadline_id, limit_key=command.limit_key, policy_pack=pack.ref,
        subject_type=command.subject_type, subject_id=command.subject_id, ticket_id=command.ticket_id,
        opened_at=deadline.opened_at, warn_at=deadline.warn_at, due_at=deadline.due_at,
    ))


HANDLERS = {
    commands.OpenDeadline: open_deadline_for,
}
