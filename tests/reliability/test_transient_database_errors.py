"""A consumer must retry, never dead-letter, an event that failed only because PostgreSQL was
restarting. Found by the fault-injection test: asyncpg reports "the database system is shutting
down" (SQLSTATE 57P01) as a plain DBAPIError, which used to count as the record's fault, so
after three attempts a good work-order event went to the dead-letter topic and its arrival
deadline was never opened."""

import pytest
from sqlalchemy import exc as sa_exc

from brightline.messaging.consumer import is_transient


class AsyncpgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = self.pgcode = sqlstate


def dbapi_error(sqlstate: str) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("INSERT INTO inbox ...", {}, AsyncpgError(sqlstate))


@pytest.mark.parametrize("sqlstate", ["57P01", "57P02", "57P03", "08006", "08001"])
def test_the_database_going_away_is_transient(sqlstate):
    assert is_transient(dbapi_error(sqlstate))


@pytest.mark.parametrize("sqlstate", ["23505", "22001", "22P05", "42P01", "57014"])
def test_errors_of_the_record_or_the_code_are_not(sqlstate):
    assert not is_transient(dbapi_error(sqlstate))
