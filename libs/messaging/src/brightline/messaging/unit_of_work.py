"""One transaction: business rows and the events they cause, committed together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Self, TypeVar

import sqlalchemy as sa
from opentelemetry import propagate
from sqlalchemy.dialects.postgresql import ARRAY, JSON, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from brightline.contracts import Event, EventPayload, jsontext, new_event
from brightline.messaging import direct
from brightline.messaging.audit import RIDING, audit_trail
from brightline.messaging.schema import inbox, outbox
from brightline.platform.logging import CURRENT_TICKET, bind_ticket

if TYPE_CHECKING:
    from brightline.messaging.audit import AuditTrail

Gathered = TypeVar("Gathered")  # what a consumer batch gathers to write at commit (gathered)

# A consumer's inbox rows for the events it applied, in one statement whose text does not
# depend on how many (the ids and types as two arrays, unnested side by side): SQLAlchemy
# compiles it once, where a multi-row VALUES is compiled anew for every batch (no cache key),
# costing more CPU than the round trip. It rides on the commit's last statement (commit).
CLAIM = (
    insert(inbox)
    .from_select(
        ["consumer", "event_id", "event_type"],
        sa.select(
            sa.bindparam(f"{RIDING}inbox_consumer", type_=inbox.c.consumer.type),
            sa.func.unnest(sa.bindparam(f"{RIDING}inbox_ids", type_=ARRAY(inbox.c.event_id.type))),
            sa.func.unnest(
                sa.bindparam(f"{RIDING}inbox_types", type_=ARRAY(inbox.c.event_type.type))
            ),
        ),
    )
    .on_conflict_do_nothing()
    .returning(inbox.c.event_id)
)
_CLAIMED = CLAIM.cte(f"{RIDING}inbox")


# What a write riding on the commit's last statement gives (UnitOfWork.ride): its CTEs, built
# once, and their parameters.
Riding = tuple[tuple[sa.CTE, ...], dict[str, Any]]


class AppliedBefore(Exception):  # noqa: N818 - not an error: a redelivery, found late
    """Events the consumer's inbox already held when the commit claimed them: applied before (a
    redelivery after a crash or a rebalance). The unit of work rolls back; the consumer applies
    its batch again without them."""

    def __init__(self, event_ids: set[str]) -> None:
        super().__init__(f"applied before: {sorted(event_ids)}")
        self.event_ids = event_ids


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
        self._causation = causation
        self.pending: list[Event] = []
        self.committed: list[Event] = []
        self._deferred: list[Callable[[], Awaitable[None]]] = []
        self._riding: list[Callable[[], Riding | None]] = []
        self._claim: dict[str, Any] | None = None
        # The events a consumer's batch is to apply here, in order (none for a request or a
        # job): a handler may read what several of them need in one statement (dispatch's
        # new repairs), as long as what it read is what each would have read in turn.
        self.batch: tuple[Event, ...] = ()

    async def __aenter__(self) -> Self:
        # Log lines of this work name its ticket (brightline.platform.logging): the handled
        # event's, else the first emitted event's (see emit); the previous one comes back on exit.
        cause = _ticket_of(self.causation.data) if self.causation else None
        self._ticket_token = CURRENT_TICKET.set(cause or CURRENT_TICKET.get())
        self.session = self._session_factory()
        # Called as it is, not through SQLAlchemy's asyncio bridge (a greenlet, ~9 µs and a
        # frame stack's mmap each): a begin sends nothing (the connection is taken, and BEGIN
        # sent, with the first statement) and no listener of ours does I/O on it.
        self.session.sync_session.begin()
        if (trail := self.session.info.get("audit")) is not None:
            trail.begin(self.session)  # the runtime's sessions carry the audit trail
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            if self.session.in_transaction():  # the rollback failed: close() releases it
                await self.session.close()
            else:
                # Committed or rolled back, the connection is back in the pool: closing sends
                # nothing, so it needs no greenlet either.
                self.session.sync_session.close()
            CURRENT_TICKET.reset(self._ticket_token)

    @property
    def causation(self) -> Event | None:
        """The event being handled (None for a request or a job)."""
        return self._causation

    @causation.setter
    def causation(self, event: Event | None) -> None:
        # A unit of work applying many events names each as it starts: the audit trail closes
        # the previous one's row, so every row says which event caused which change.
        if event is self._causation:
            return
        if (trail := self._trail()) is not None:
            trail.close(self)
        self._causation = event

    def defer(self, write: Callable[[], Awaitable[None]]) -> None:
        """A write made once, at commit, before the last statement: a handler that folds many
        events of a consumer's batch into one statement (records, the SLA monitor's history)
        registers it with the first event and adds to it with the others. It fails as the
        commit does: the consumer then applies each event of the batch alone."""
        self._deferred.append(write)

    def gathered(
        self, key: str, make: Callable[[], Gathered], write: Callable[[Gathered], Awaitable[None]]
    ) -> Gathered:
        """What a consumer batch's handlers gather to write in one statement at commit (a fold
        of its events, a list of rows): made by `make` with the first event, kept in the
        session's info under `key` for the others, written by `write` at commit (defer). A
        handler that writes it earlier and drops the key gets a new one with the next event."""
        return self._gathering(key, make, lambda found: self.defer(lambda: write(found)))

    def gathered_to_ride(
        self, key: str, make: Callable[[], Gathered], rows: Callable[[Gathered], Riding | None]
    ) -> Gathered:
        """As gathered(), written riding on the commit's last statement (ride) instead of in a
        statement of its own: a round trip and an execution fewer per batch. For writes no
        handler of the batch reads back before the commit (written at commit either way)."""
        return self._gathering(key, make, lambda found: self.ride(lambda: rows(found)))

    def _gathering(
        self, key: str, make: Callable[[], Gathered], written: Callable[[Gathered], None]
    ) -> Gathered:
        found: Gathered | None = self.session.info.get(key)
        if found is None:
            found = self.session.info[key] = make()
            written(found)
        return found

    def ride(self, rows: Callable[[], Riding | None]) -> None:
        """A write made at commit as data-modifying CTEs of the last statement, in its round
        trip (records' fold of a batch: the round trip of a statement of its own cost more
        client CPU than the rows it carried). `rows()`, asked at commit, gives the CTEs (each
        built once, so the statement is compiled once) and their parameters, or None when
        there is nothing to write. The CTEs run whether or not the statement reads them, see
        the same snapshot as the statement's other parts and must write other tables; they
        fail as the commit does, like a deferred write."""
        self._riding.append(rows)

    def insert_at_commit(self, table: sa.Table, row: dict[str, Any]) -> None:
        """One row of `table` written at commit (ride), as the outbox's and the audit trail's
        rows are: a statement built once per table and columns, a bind per column. One per
        table and unit of work. The audit trail does not see it: its caller notes it
        (audit.note_insert)."""
        values: dict[str, Any] = {}
        _, cte = _insert(table, [row], values)
        self.ride(lambda: ((cte,), values))

    def claim(self, consumer: str, events: list[Event]) -> None:
        """Claim the events (distinct) in the consumer's inbox at commit, in the last statement
        the commit sends anyway: the claim costs no round trip of its own. Optimistic: the
        handlers have already run when it meets an event the inbox holds, so commit() then
        raises AppliedBefore and nothing of this unit of work is committed."""
        self._claim = {
            f"{RIDING}inbox_consumer": consumer,
            f"{RIDING}inbox_ids": [e.id for e in events],
            f"{RIDING}inbox_types": [e.type for e in events],
        }

    def _trail(self) -> AuditTrail | None:
        session: AsyncSession | None = getattr(self, "session", None)
        return None if session is None else session.info.get("audit")

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
        params: dict[str, Any] | None = None,
        verify: Callable[[list[Any] | None], Awaitable[None]] | None = None,
    ) -> list[Any] | None:
        """Write the pending events to the outbox and the audit rows, and commit. `last`, a
        statement of the caller's to run at the very end with `params`, carries them in its
        round trip (they ride along as data-modifying CTEs; without `last`, the audit rows ride
        with the outbox insert, and both with a consumer's inbox claim); built once by its
        caller, it is joined to the riding rows once per kind of row. `verify(rows)`, awaited
        before the commit, may still write or raise. Returns last's rows. Raises AppliedBefore
        when the claim finds events in the inbox. The statements are sent past the session
        (brightline.messaging.direct): none writes an audited table of its own."""
        deferred, self._deferred = self._deferred, []
        for write in deferred:
            await write()
        trail = self._trail()
        audited = trail.rows(self) if trail is not None else []
        values: dict[str, Any] = dict(params or {})  # last's, then those of the riding rows
        written: list[sa.CTE] = []  # the riding writes (uow.ride), first
        asked, self._riding = self._riding, []
        for ask in asked:
            if (ride := ask()) is not None:
                written.extend(ride[0])
                values.update(ride[1])
        # The outbox rows first, then the audit rows; data-modifying CTEs run whether or not the
        # statement they ride on reads them.
        inserts = [
            _insert(table, rows, values)
            for table, rows in (
                (outbox, [outbox_row(e) for e in self.pending]),
                (audit_trail, audited),
            )
            if rows
        ]
        inserted = tuple(cte for _, cte in inserts)
        riding = (*written, *inserted)
        result = None
        claim, self._claim = self._claim, None
        # last's result is its caller's: the claim's rows could not come back with it.
        assert claim is None or last is None, "a consumer's commit has no last statement"
        if last is not None:
            result = await direct.execute(self.session, _riding_on(last, riding), values)
        elif claim is not None:
            values.update(claim)
            self._check_claim(claim, await direct.execute(self.session, _claiming(*riding), values))
        elif inserts:
            await direct.execute(
                self.session, _riding_on(inserts[0][0], (*written, *inserted[1:])), values
            )
        elif written:  # nothing else to write: the riding writes alone
            await direct.execute(self.session, _alone(*written), values)
        if verify is not None:
            await verify(result)
        if trail is not None and trail.changed(self):
            # `last` or `verify` changed audited rows after the row was written: one more.
            values = {}
            insert, _ = _insert(audit_trail, trail.rows(self), values)
            await direct.execute(self.session, insert, values)
        await direct.commit(self.session)
        if audited and trail is not None:
            trail.wake()
        self.committed, self.pending = self.pending, []
        if self.committed:
            for hook in self._after_commit:
                hook()
        return result

    @staticmethod
    def _check_claim(claim: dict[str, Any], rows: list[Any]) -> None:
        # ON CONFLICT DO NOTHING returns only the rows it inserted.
        if before := set(claim[f"{RIDING}inbox_ids"]) - {row[0] for row in rows}:
            raise AppliedBefore(before)


@cache
def _claiming(*riding: sa.CTE) -> sa.Select[tuple[str]]:
    """The inbox claim, the outbox and audit rows riding on it: built once per kind of commit
    (the riding CTEs are themselves built once per table and columns)."""
    return sa.select(_CLAIMED.c.event_id).add_cte(*riding)


@cache
def _alone(*riding: sa.CTE) -> sa.Select[Any]:
    return sa.select(sa.literal(1)).add_cte(*riding)


@lru_cache(maxsize=256)
def _riding_on(statement: sa.Insert, riding: tuple[sa.CTE, ...]) -> sa.Insert:
    """`statement` with the rows riding on it, joined once per statement and kinds of row (both
    built once): a statement joined anew on every commit was walked for its cache key on every
    execution, which cost more CPU than executing its cached compiled form."""
    return statement.add_cte(*riding) if riding else statement


def _insert(
    table: sa.Table, rows: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[sa.Insert, sa.CTE]:
    """The INSERT of `rows` and the CTE it rides as, each statement built once per table and
    columns, the values added to `params`. One row (the usual request emits one event and
    writes one audit row) as a bind per column; more (a consumer's batch) as one JSON array,
    read by jsonb_populate_recordset in the array's order: SQLAlchemy caches no multi-row
    VALUES statement and compiled one on every commit of a batch (~1 ms). A table with json
    columns (the audit trail's) is read by json_populate_recordset, which gives such a column
    its value's text as it was written (its digest hashed that text); faster there too (270 µs
    against 400 for 20 audit rows), slower for JSONB columns (260 against 210 for 20 outbox
    rows)."""
    prefix = f"{RIDING}{table.name}_"
    if len(rows) != 1:
        params[prefix + "rows"] = jsontext.dumps_rows(rows).decode()
        return _many_rows(table, tuple(rows[0]))
    params.update({prefix + key: value for key, value in rows[0].items()})
    return _one_row(table, tuple(rows[0]))


@cache
def _one_row(table: sa.Table, columns: tuple[str, ...]) -> tuple[sa.Insert, sa.CTE]:
    prefix = f"{RIDING}{table.name}_"
    insert = table.insert().values(
        {name: sa.bindparam(prefix + name, type_=table.c[name].type) for name in columns}
    )
    return insert, insert.returning(table.c[0]).cte(f"riding_{table.name}")


@cache
def _many_rows(table: sa.Table, columns: tuple[str, ...]) -> tuple[sa.Insert, sa.CTE]:
    json = "json" if any(type(c.type) is JSON for c in table.c) else "jsonb"
    rows = sa.text(
        f"{json}_populate_recordset(NULL::{table.name}, "
        f"CAST(CAST(:{RIDING}{table.name}_rows AS text) AS {json})) WITH ORDINALITY AS r"
    )
    select: sa.Select[Any, *tuple[Any, ...]] = (
        sa.select(*(sa.literal_column(f"r.{name}") for name in columns))
        .select_from(rows)
        .order_by(sa.literal_column("r.ordinality"))
    )
    insert = table.insert().from_select(list(columns), select)
    return insert, insert.returning(table.c[0]).cte(f"riding_{table.name}")


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
