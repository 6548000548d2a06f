"""Async PostgreSQL access: one database per service, on the configured or embedded server."""

from __future__ import annotations

import errno
import logging

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        hide_parameters=True,  # SQL parameters (phones, names) never reach a log or an error
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autobegin=False)
