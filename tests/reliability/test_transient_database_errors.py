"""A consumer must retry, never dead-letter, an event that failed only because PostgreSQL was
restarting. Found by the fault-injection test: asyncpg reports "the database system is shutting
down" (SQLSTATE 57P01) as a plain DBAPIError, which used to count as the record's fault, so
after three attempts a good work-order event went to the dead-letter topic and its arrival
deadline was never opened. A transaction PostgreSQL ends for a conflict with another (a
deadlock's victim, SQLSTATE 40P01; a serialization failure, 40001) is the same: nothing is wrong
with the record or the request, and the same work succeeds run again."""

import pytest
from sqlalchemy import exc as sa_exc

from brightline.messaging.consumer import is_transient


class AsyncpgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = self.pgcode = sqlstate


def dbapi_error(sqlstate: str) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("INSERT INTO inbox ...", {}, AsyncpgError(sqlstate))


@pytest.mark.parametrize(
    "sqlstate", ["57P01", "57P02", "57P03", "08006", "08001", "40P01", "40001"]
)
def test_the_database_going_away_or_ending_a_conflict_is_transient(sqlstate):
    assert is_transient(dbapi_error(sqlstate))


@pytest.mark.parametrize("sqlstate", ["23505", "22001", "22P05", "42P01", "57014"])
def test_errors_of_the_record_or_the_code_are_not(sqlstate):
    assert not is_transient(dbapi_error(sqlstate))


def app_raising(error: Exception):
    from contextlib import asynccontextmanager

    from fastapi import APIRouter

    from brightline.platform.app import create_service_app
    from brightline.platform.settings import ServiceSettings

    router = APIRouter()

    @router.post("/tickets")
    async def record() -> dict:
        raise error

    @asynccontextmanager
    async def lifespan(app):
        yield

    return create_service_app(
        ServiceSettings(service_name="t", database_name="unused"),
        title="t",
        description="",
        routers=[router],
        lifespan=lifespan,
    )


@pytest.mark.parametrize(
    ("sqlstate", "told"),
    [("57P01", "restarting"), ("40P01", "concurrent")],
    ids=["database-restart", "deadlock-victim"],
)
async def test_a_request_the_database_could_not_serve_gets_503_with_retry_after(sqlstate, told):
    import httpx

    transport = httpx.ASGITransport(app=app_raising(dbapi_error(sqlstate)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/tickets")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert told in response.json()["detail"]


async def test_a_database_error_of_the_request_stays_a_500():
    import httpx

    transport = httpx.ASGITransport(
        app=app_raising(dbapi_error("22001")), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post("/tickets")).status_code == 500


async def test_connecting_while_the_socket_file_is_gone_gets_503():
    """Over a unix socket, asyncpg's connect raises a raw FileNotFoundError while Postgres
    restarts (seen in the fault test): that is the database away, not a bug of the request."""
    import errno

    import httpx

    gone = FileNotFoundError(errno.ENOENT, "No such file or directory")
    transport = httpx.ASGITransport(app=app_raising(gone))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/tickets")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
