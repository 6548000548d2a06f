"""One transaction: business rows and the events they cause, committed together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Self

from opentelemetry import propagate
from sqlalchemy import Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from brightline.contracts import Event, EventPayload, new_event
from brightline.messaging.schema import outbox
from brightline.platform.logging import CURRENT_TICKET, bind_ticket


class UnitOfWork:
    """`async with UnitOfWork(...) as uow:` … `uow.emit(payload)` … `await uow.commit()`.

    Leaving the block without commit() rolls everything back, events included. Entry points
    (routes, consumers) commit; handlers never do.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        source: str,
        after_commit: Iterable[Callable[[], None]] = (),
        causation: Event | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.source = source
        self._after_commit = list(after_commit)
        self.causation = causation
        self.pending: list[Event] = []
        self.committed: list[Event] = []

    async def __aenter__(self) -> Self:
        # Log lines of this work name its ticket (brightline.platform.logging): the handled
        # event's, else the first emitted event's (see emit); the previous one comes back on exit.
        cause = _ticket_of(self.causation.data) if self.causation else None
        self._ticket_token = CURRENT_TICKET.set(cause or CURRENT_TICKET.get())
        self.session = self._session_factory()
        await self.session.begin()
        if (trail := self.session.info.get("audit")) is not None:
            trail.begin(self.session)  # the runtime's sessions carry the audit trail
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()
            CURRENT_TICKET.reset(self._ticket_token)

    def emit(self, payload: EventPayload) -> Event:
        event = new_event(payload, source=self.source, traceparent=self._traceparent())
        self.pending.append(event)
        if CURRENT_TICKET.get() is None:
            bind_ticket(_ticket_of(event.data))
        return event

    def _traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if "traceparent" in carrier:
            return carrier["traceparent"]
        # No live span here: keep the chain of the event that caused this work.
        return self.causation.traceparent if self.causation else None

    async def commit(
        self,
        last: ReturningInsert[Any] | None = None,
        verify: Callable[[Result[Any] | None], Awaitable[None]] | None = None,
    ) -> Result[Any] | None:
        """Write the pending events to the outbox and commit. `last`, a statement of the caller's
        to run at the very end, travels in the same round trip as the outbox rows (they ride
        along as a data-modifying CTE); `verify(result)`, awaited before the commit, may still
        write or raise. Returns last's result."""
        result = None
        if last is not None and self.pending:
            rows = outbox.insert().values([outbox_row(e) for e in self.pending])
            result = await self.session.execute(
                last.add_cte(rows.returning(outbox.c.id).cte("emitted"))
            )
        else:
            if self.pending:
                await self.session.execute(outbox.insert(), [outbox_row(e) for e in self.pending])
            if last is not None:
                result = await self.session.execute(last)
        if verify is not None:
            await verify(result)
        if (trail := self.session.info.get("audit")) is not None:
            await trail.record_unit_of_work(self)  # brightline.messaging.audit
        await self.session.commit()
        self.committed, self.pending = self.pending, []
        if self.committed:
            for hook in self._after_commit:
                hook()
        return result


def _ticket_of(data: dict[str, Any]) -> str | None:
    ticket: str | None = data.get("ticket_id") or data.get("linked_ticket_id")
    return ticket


def outbox_row(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "event_type": event.type,
        "topic": event.topic,
        "key": event.subject,
        "source": event.source,
        "occurred_at": event.time,
        "data": event.data,
        "traceparent": event.traceparent,
    }
