"""Async PostgreSQL access: one database per service, on the configured or embedded server."""

from __future__ import annotations

import errno
import logging
import os
from typing import Any

from sqlalchemy import ColumnElement, String, literal_column, text
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from brightline.contracts import jsontext

log = logging.getLogger(__name__)


# PostgreSQL going away says so with an SQLSTATE that the asyncpg dialect raises as a plain
# DBAPIError: class 08 (connection exception) and the server shutting down or starting up.
UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def database_unavailable(error: BaseException) -> bool:
    """True when the error says the database is (briefly) gone, not that the statement is wrong."""
    from sqlalchemy import exc as sa_exc

    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated or isinstance(
            error, (sa_exc.OperationalError, sa_exc.InterfaceError)
        ):
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return bool(sqlstate) and str(sqlstate).startswith(UNAVAILABLE_SQLSTATES)
    if isinstance(error, OSError) and error.errno in (
        errno.ENOENT,
        errno.ECONNREFUSED,
        errno.ECONNRESET,
    ):
        # Over a unix socket, connecting while the server restarts fails with ENOENT: the socket
        # file is gone until the new postmaster creates it.
        return True
    return isinstance(error, (ConnectionError, TimeoutError))


# A transaction PostgreSQL ended to resolve a conflict with another (a deadlock's victim, a
# serialization failure): nothing wrong with the statement; the same work succeeds run again.
CONFLICT_SQLSTATES = ("40001", "40P01")


def transaction_conflict(error: BaseException) -> bool:
    """True when PostgreSQL ended the transaction for a conflict with another one."""
    from sqlalchemy import exc as sa_exc

    if not isinstance(error, sa_exc.DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return str(sqlstate) in CONFLICT_SQLSTATES


def server_url(configured: str | None) -> str:
    """The configured server, or the project's embedded PostgreSQL started on demand."""
    if configured:
        url = make_url(configured)
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+asyncpg")
        return url.render_as_string(hide_password=False)
    from brightline.platform.local import LocalPostgres, project_root

    return LocalPostgres(project_root() / ".local" / "pgdata").start()


def database_url(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


async def ensure_database(server: str, database: str) -> None:
    """CREATE DATABASE if missing; in production the database usually exists already."""
    admin = create_async_engine(database_url(server, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}
            )
            if not exists:
                try:
                    await conn.execute(text(f'CREATE DATABASE "{database}"'))
                    log.info("created database %s", database)
                except Exception as error:  # a sibling process won the race
                    if "already exists" not in str(error):
                        raise
    finally:
        await admin.dispose()


# Client-side count of SQL round trips (statements, BEGIN, COMMIT/ROLLBACK, and the three of a
# pre-ping), for the benchmark's "round trips per ticket". Off unless DB_COUNT_ROUND_TRIPS is set:
# the event hooks cost a few microseconds per statement that production need not pay.
ROUND_TRIPS = {"total": 0}


def count_round_trips(engine: AsyncEngine) -> None:
    from prometheus_client import Gauge
    from sqlalchemy import event

    sync = engine.sync_engine
    pinged = bool(getattr(sync.pool, "_pre_ping", False))

    def one(*_args: object, **_kw: object) -> None:
        ROUND_TRIPS["total"] += 1

    for name in ("before_cursor_execute", "begin", "commit", "rollback"):
        event.listen(sync, name, one)
    if pinged:  # asyncpg's ping: BEGIN, SELECT, ROLLBACK on every checkout

        def three(*_args: object) -> None:
            ROUND_TRIPS["total"] += 3

        event.listen(sync.pool, "checkout", three)
    if not getattr(count_round_trips, "gauge", None):
        gauge = Gauge("brightline_db_round_trips", "SQL round trips sent by this process")
        gauge.set_function(lambda: ROUND_TRIPS["total"])
        count_round_trips.gauge = gauge  # type: ignore[attr-defined]


def create_engine(url: str, *, pool_size: int = 20, pre_ping: bool = False) -> AsyncEngine:
    """Up to `pool_size` connections, each kept once opened: no overflow. An overflow
    connection is closed as it is returned whenever the pool holds its size idle, and under a
    steady load the pool went up and down around its size: intake opened 9 new connections in
    25 s of the bench's sustained load (pg_stat_database.sessions; 0 without overflow), each a
    new PostgreSQL backend (fork, catalog caches, asyncpg's type introspection) with every
    statement parsed and planned anew on it.

    No ping per checkout (it cost three round trips each: BEGIN, SELECT, ROLLBACK). Liveness
    instead: connections are recycled after 5 minutes, and a connection that turns out dead
    raises a disconnect error that invalidates the whole pool (SQLAlchemy's default), which the
    callers already treat as transient: consumers retry without counting an attempt, requests
    answer 503 + Retry-After, the relay backs off and retries."""
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=pre_ping,
        pool_recycle=300,
        # The connection returned last goes out first (PgBouncer's default for the same
        # reason): at a partial load a few backends do the work and stay warm, where FIFO
        # cycled through every backend a burst had opened, each one's caches cold.
        pool_use_lifo=True,
        hide_parameters=True,  # SQL parameters (phones, names) never reach a log or an error
        # JSON/JSONB parameters and results through orjson (the stdlib's json cost 3-11 % of a
        # service's CPU), reading as the stdlib did; a JSONB value is stored as it was.
        json_serializer=_json_text,
        json_deserializer=jsontext.loads,
    )
    if os.environ.get("DB_COUNT_ROUND_TRIPS", "") not in ("", "0", "false"):
        count_round_trips(engine)
    return engine


def _json_text(value: Any) -> str:
    if type(value) is jsontext.Dumped:
        return value
    return jsontext.dumps(value).decode()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autobegin=False)


def written(value: str) -> ColumnElement[str]:
    """`value` written into the statement's SQL as a string literal, not bound as a parameter.
    Statements are prepared once, and from their sixth run PostgreSQL may plan them for any value
    (a generic plan): a partial index whose predicate names the value (WHERE status = 'open')
    can then never be used, and the query reads the whole table. Written when the statement is
    compiled, once (a literal_execute parameter is rendered into the cached SQL again on every
    execution). For the project's own constants, such as the values a partial index names."""
    return literal_column("'" + value.replace("'", "''") + "'", String)


def rows_affected(result: Result[Any]) -> int:
    """The rows a DML statement wrote. execute() is typed to return a Result; an INSERT, UPDATE
    or DELETE's is a CursorResult, which alone knows its rowcount."""
    assert isinstance(result, CursorResult), "rows_affected() is for DML statements"
    return result.rowcount
