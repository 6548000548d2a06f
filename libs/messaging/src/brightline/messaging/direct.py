"""The statements every request and every consumer batch sends, run on the session's asyncpg
connection itself.

SQLAlchemy builds and compiles them (once each, see `compiled`); executing one through
`Session.execute` cost ~120 µs of client CPU more than asyncpg's own call of the same prepared
statement (measured on this box: 175 against 60 µs for a one-row INSERT ... RETURNING): the
ORM's event hooks, the compiled-cache lookup, the execution context and the result objects.
An intake POST sends three such statements, about a fifth of its CPU.

Only statements the audit trail's capture does not look into run here (`compiled` refuses the
others): SELECTs, with or without data-modifying CTEs (their callers note what those write:
audit.note_insert), and writes to the tables the audit trail leaves out (outbox, inbox,
idempotency keys, the audit trail itself). What a statement sent through the session would have
done first, a deferred Idempotency-Key claim, is done first here too. A database error comes
out as SQLAlchemy's own (IntegrityError, OperationalError, ... with the connection invalidated
when it is gone), so every caller's handling (503 while PostgreSQL restarts, a consumer's
retry) is unchanged.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from brightline.messaging import idempotency
from brightline.messaging.audit import UNAUDITED_TABLES


class Compiled:
    """A statement compiled once for asyncpg: its SQL ($1, $2, ...), the names of its
    parameters in that order with their values fixed in the statement (constants), the
    parameters' and the result columns' conversions (a JSON value to its text, ...)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        table = getattr(statement, "table", None)
        if isinstance(statement, sa.Insert | sa.Update | sa.Delete) and (
            not isinstance(table, sa.Table) or table.name not in UNAUDITED_TABLES
        ):
            raise TypeError(f"a write to {table} is audited: send it through the session")
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        if (
            compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.insert_prefetch
            or compiled.update_prefetch
            or not compiled.positional
        ):
            raise TypeError("expanding IN lists and Python-side defaults need the session")
        self.sql = compiled.string
        self._names: list[str] = list(compiled.positiontup or ())
        self._constants: dict[str, Any] = dict(
            compiled.construct_params(_check=False, escape_names=False)
        )
        processors = compiled._bind_processors
        if not all(callable(p) for p in processors.values()):
            raise TypeError("tuple parameters need the session")
        self._bind = {k: cast(Callable[[Any], Any], p) for k, p in processors.items()}
        self._results: list[Callable[[Any], Any] | None] = [
            column.type._cached_result_processor(dialect, None)
            for column in compiled._result_columns or ()
        ]
        self._row: type | None = None

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        values = {**self._constants, **params} if params else self._constants
        bind = self._bind
        return [bind[name](values[name]) if name in bind else values[name] for name in self._names]

    def rows(self, records: Sequence[Any]) -> list[Any]:
        """asyncpg's records as rows read by position or by column name, like sa.Row."""
        if not records:
            return []
        if self._row is None:
            if any(self._results) and len(records[0]) != len(self._results):
                # Conversions are matched to columns by place: they must be the statement's.
                raise TypeError("a statement whose result columns SQLAlchemy does not know")
            self._row = namedtuple("Row", list(records[0].keys()), rename=True)  # type: ignore[misc]
        make = self._row._make  # type: ignore[attr-defined]
        results = self._results
        if not any(results):
            return [make(r) for r in records]
        return [
            make(
                value if convert is None else convert(value)
                for value, convert in zip(r, results, strict=False)
            )
            for r in records
        ]


_COMPILED: WeakKeyDictionary[Dialect, WeakKeyDictionary[ClauseElement, Compiled]] = (
    WeakKeyDictionary()
)


def compiled(statement: ClauseElement, dialect: Dialect) -> Compiled:
    """`statement` compiled for `dialect`, once while it lives (statements sent here are built
    once by their callers)."""
    per_dialect = _COMPILED.get(dialect)
    if per_dialect is None:  # not setdefault: its default would be built on every call
        per_dialect = _COMPILED[dialect] = WeakKeyDictionary()
    found = per_dialect.get(statement)
    if found is None:
        found = per_dialect[statement] = Compiled(statement, dialect)
    return found


async def execute(
    session: AsyncSession, statement: ClauseElement, params: Mapping[str, Any] | None = None
) -> list[Any]:
    """Run `statement` with `params` in the session's transaction; its rows (none without
    RETURNING)."""
    await idempotency.make_deferred_claim(session)
    connection = await _connection_of(session)
    sync = connection.sync_connection
    assert sync is not None
    form = compiled(statement, sync.dialect)
    adapted: Any = sync.connection.dbapi_connection
    sql, arguments = form.sql, form.arguments(params)
    try:
        if adapted._transaction is None and not adapted.autocommit:
            # The BEGIN the adapter would send before the session's first statement.
            await adapted._start_transaction()
        heard = sync._has_events or sync.engine._has_events
        if not heard:
            records = await adapted._connection.fetch(sql, *arguments)
        else:
            records = await _told(sync, adapted, sql, arguments)
    except Exception as error:
        raise await _as_sqlalchemy_error(error, connection, adapted, sql, session.info) from error
    return form.rows(records)


async def commit(session: AsyncSession) -> None:
    """Commit the session's transaction: COMMIT sent on the connection its statements here took,
    then the session's own bookkeeping (its transaction ended, the connection back to the pool,
    the engine's commit event) done without SQLAlchemy's asyncio bridge, which only a statement
    left to send would need (a greenlet each, ~9 µs and a frame stack's mmap). A session none of
    whose statements came here, or one with ORM objects to flush, commits as SQLAlchemy does."""
    sync_session = session.sync_session
    transaction = sync_session.get_transaction()
    held = session.info.get(_HELD)
    flush = sync_session.new or sync_session.dirty or sync_session.deleted
    if held is None or transaction is None or held[0] is not transaction or flush:
        await session.commit()
        return
    connection = cast(AsyncConnection, held[1])
    sync = connection.sync_connection
    assert sync is not None
    adapted: Any = sync.connection.dbapi_connection
    if adapted._transaction is not None:
        try:
            # As the adapter's own commit() does: the transaction is done, committed or not.
            await adapted._call_and_discard(adapted._transaction.commit)
        except Exception as error:
            raise await _as_sqlalchemy_error(
                error, connection, adapted, "COMMIT", session.info
            ) from error
    sync_session.commit()  # nothing left to send: the adapter's commit finds no transaction


class Sent:
    """What the engine's statement events are given as the cursor and the execution context
    of a statement sent here (asyncpg's call has neither): listeners keep their notes on it,
    as the OpenTelemetry instrumentation keeps its span, and read its rows' count."""

    description: list[tuple[str, ...]] | None = None
    rowcount = -1


async def _told(sync: Any, adapted: Any, sql: str, arguments: list[Any]) -> Any:
    """The statement sent with the engine's before and after events, as a cursor's statement
    is (the round-trip count, tests, spans when exported); the after event also when it
    failed, so a span it opened ends."""
    sent = Sent()
    for listener in sync.dispatch.before_cursor_execute:
        sql, arguments = listener(sync, sent, sql, arguments, sent, False)
    try:
        records = await adapted._connection.fetch(sql, *arguments)
        sent.rowcount = len(records)
        sent.description = [(name,) for name in records[0].keys()] if records else None
        return records
    finally:
        for listener in sync.dispatch.after_cursor_execute:
            listener(sync, sent, sql, arguments, sent, False)


_HELD = "direct_connection"  # session.info: the transaction's connection, held once asked


async def _connection_of(session: AsyncSession) -> AsyncConnection:
    """The connection of the session's transaction: asked of the session once per transaction
    (a greenlet switch and the ORM's bookkeeping each time it is asked)."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and transaction is not None and held[0] is transaction:
        return cast(AsyncConnection, held[1])
    connection = await session.connection()
    session.info[_HELD] = (session.sync_session.get_transaction(), connection)
    return connection


async def _as_sqlalchemy_error(
    error: Exception, connection: Any, adapted: Any, sql: str, info: dict[str, Any]
) -> Exception:
    """`error` as SQLAlchemy raises it from Session.execute: asyncpg's translated to the
    DBAPI's, wrapped in sqlalchemy.exc's; a connection found gone invalidated, and the pool
    with it (SQLAlchemy's default), so that no other request meets a dead connection."""
    dialect = connection.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        adapted._handle_exception(error)
    except dbapi_error as translated:
        gone = dialect.is_disconnect(translated, adapted, None)
        if gone:
            # Every connection pooled before now is dropped at its next checkout (private,
            # as SQLAlchemy's own handling calls it), this one at once.
            sync = connection.sync_connection
            sync.engine.pool._invalidate(sync.connection, translated, _checkin=False)
            await connection.invalidate(translated)
            info.pop(_HELD, None)
        wrapped: Exception = sa_exc.DBAPIError.instance(
            sql,
            None,
            translated,
            dbapi_error,
            hide_parameters=True,
            connection_invalidated=gone,
            dialect=dialect,
        )
        return wrapped
    except Exception as other:  # not a database error (a wrong value for a parameter's type)
        return other
    raise AssertionError("_handle_exception always raises")
