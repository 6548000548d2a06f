"""Idempotency-Key for HTTP commands: the same key and body replays the first response.

The key is stored in the same transaction as the effect, so "effect without key" and "key
without effect" cannot happen.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from brightline.messaging import direct
from brightline.messaging.schema import idempotency_keys


class IdempotencyKeyReused(ValueError):
    """The key was used before with a different request body."""


class Replayed(Exception):  # noqa: N818 - not an error: the command was carried out before
    """The claim of a command's key, made with its first statement (defer_claim), found the
    response its first request stored: the command stops there and the response is replayed."""

    def __init__(self, stored: StoredResponse) -> None:
        super().__init__(stored.status_code)
        self.stored = stored


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# A claimed key's row until remember() stores the response (only this transaction sees it:
# remember() always runs before the commit, and a rollback removes it).
_CLAIMED = 0


# Built once: lock_and_lookup runs on every request with a key, and building the statement
# (a coercion per value) cost more CPU than executing its cached compiled form.
_CLAIM = (
    insert(idempotency_keys)
    .values(
        scope=sa.bindparam("scope"),
        key=sa.bindparam("key"),
        request_hash=sa.bindparam("request_hash"),
        status_code=_CLAIMED,
        body=sa.JSON.NULL,
    )
    .on_conflict_do_update(
        index_elements=[idempotency_keys.c.scope, idempotency_keys.c.key],
        set_={"scope": idempotency_keys.c.scope},  # no change: locks the row and returns it
    )
    .returning(
        idempotency_keys.c.request_hash, idempotency_keys.c.status_code, idempotency_keys.c.body
    )
)


def _looked_up(row: Any, body_hash: str, key: str) -> StoredResponse | None:
    if row.status_code == _CLAIMED:  # claimed just now by us (or left unstored without remember())
        return None
    if row.request_hash != body_hash:
        raise IdempotencyKeyReused(key)
    return StoredResponse(row.status_code, row.body)


async def lock_and_lookup(
    session: AsyncSession, scope: str, key: str, body_hash: str
) -> StoredResponse | None:
    """Serialise concurrent requests with one key, then return the stored response if the first
    one already committed. One statement: claim the key's row (INSERT ... ON CONFLICT DO UPDATE).

    A concurrent request with the same key waits on that row until the first one commits or
    rolls back, and then sees its committed row (ON CONFLICT reads the latest committed version,
    not the statement's snapshot). An advisory lock taken *inside* the lookup statement would
    not give that: the lookup would read the snapshot taken before the wait and miss the row the
    lock holder just committed. The row lock lasts until the end of the transaction, like the
    transaction-scoped advisory lock it replaces."""
    # Inserted or locked: the upsert returns the row either way.
    (row,) = await direct.execute(
        session, _CLAIM, {"scope": scope, "key": key, "request_hash": body_hash}
    )
    return _looked_up(row, body_hash, key)


# The claim of a key deferred to the unit of work's first statement (defer_claim).
_DEFERRED = "idempotency_deferred_claim"


def defer_claim(session: AsyncSession, scope: str, key: str, body_hash: str) -> None:
    """Claim the key with the session's first statement instead of a round trip of its own:
    a statement built with riding() carries the claim and runs its own part only when the key
    is fresh; before any other, the claim runs on its own (lock_and_lookup). A key that holds a
    stored response raises Replayed there, one used with another body IdempotencyKeyReused."""
    session.info[_DEFERRED] = {"scope": scope, "key": key, "request_hash": body_hash}


# First among the session's hooks: the claim precedes the statement and its audit capture.
@event.listens_for(Session, "do_orm_execute", insert=True)
def _claim_first(state: ORMExecuteState) -> None:
    claim = state.session.info.pop(_DEFERRED, None)
    if claim is None:
        return
    row = state.session.execute(_CLAIM, claim).one()
    if (stored := _looked_up(row, claim["request_hash"], claim["key"])) is not None:
        raise Replayed(stored)


async def make_deferred_claim(session: AsyncSession) -> None:
    """The deferred claim, if still to be made, in a statement of its own: what the session's
    next statement would have made first (_claim_first), for a statement sent past the session
    (brightline.messaging.direct)."""
    claim = session.info.pop(_DEFERRED, None)
    if claim is None:
        return
    row = (await session.execute(_CLAIM, claim)).one()
    if (stored := _looked_up(row, claim["request_hash"], claim["key"])) is not None:
        raise Replayed(stored)


_RIDDEN = _CLAIM.cte("idempotency_claim")


def riding(
    then: sa.ColumnElement[Any],
    *columns: sa.ColumnElement[Any],
    join: tuple[sa.FromClause, sa.ColumnElement[bool]] | None = None,
) -> sa.Select[Any]:
    """A statement that makes a deferred claim and goes on in its round trip: the claim's row
    with `then` (e.g. a lock) computed from it, only when the key was fresh, so always after
    the claim (a retry waiting on its first request's key takes nothing meanwhile), and
    `columns` of `join` (a table outer joined on a condition of the caller's parameters). Run
    through claimed(); built once by its caller, so that its compiled form is cached."""
    fresh = sa.case((_RIDDEN.c.status_code == _CLAIMED, then)).label("fresh")
    source = _RIDDEN if join is None else _RIDDEN.outerjoin(*join)
    return sa.select(_RIDDEN, fresh, *columns).select_from(source)


async def claimed(
    session: AsyncSession, ridden: sa.Select[Any], plain: sa.Select[Any], params: dict[str, Any]
) -> Any:
    """Run `plain` with `params`, or its riding() form `ridden` when the session's claim is
    still deferred: then the claim is made in the same round trip, and Replayed or
    IdempotencyKeyReused raised as its own statement would. Returns the one row (the columns
    both name alike)."""
    claim = session.info.pop(_DEFERRED, None)
    if claim is None:
        (row,) = await direct.execute(session, plain, params)
        return row
    (row,) = await direct.execute(session, ridden, {**params, **claim})
    if (stored := _looked_up(row, claim["request_hash"], claim["key"])) is not None:
        raise Replayed(stored)
    return row


_STORE = insert(idempotency_keys)
_STORED = ("scope", "key", "request_hash", "status_code", "body")
# Built once, its values given per call as parameters (remember_params): a statement given
# values of its own was coerced value by value and walked for its cache key on every request,
# and building the ON CONFLICT clause (the EXCLUDED row's columns) cost more still.
REMEMBER = (
    _STORE.values(
        {c: sa.bindparam(f"remember_{c}", type_=idempotency_keys.c[c].type) for c in _STORED}
    )
    .on_conflict_do_update(
        index_elements=[idempotency_keys.c.scope, idempotency_keys.c.key],
        set_={
            "request_hash": _STORE.excluded.request_hash,
            "status_code": _STORE.excluded.status_code,
            "body": _STORE.excluded.body,
        },
        where=idempotency_keys.c.status_code == _CLAIMED,
    )
    .returning(idempotency_keys.c.status_code)
)


def remember_params(
    scope: str, key: str, body_hash: str, status_code: int, body: Any
) -> dict[str, Any]:
    """The parameters of REMEMBER, which returns the stored status, or no row when the key
    already held a stored response."""
    values = (scope, key, body_hash, status_code, body)
    return {f"remember_{c}": v for c, v in zip(_STORED, values, strict=True)}


async def remember(
    session: AsyncSession, scope: str, key: str, body_hash: str, status_code: int, body: Any
) -> None:
    """Store the response on the key claimed by lock_and_lookup (or insert it). A key that holds
    a stored response already fails with the unique violation a plain insert raises."""
    args = (scope, key, body_hash, status_code, body)
    stored = await session.scalar(REMEMBER, remember_params(*args))
    if stored is None:
        await store_unclaimed(session, *args)


async def store_unclaimed(
    session: AsyncSession, scope: str, key: str, body_hash: str, status_code: int, body: Any
) -> None:
    """The key was not claimed by this transaction: a plain insert (a unique violation when the
    key holds a stored response)."""
    await session.execute(
        insert(idempotency_keys).values(
            scope=scope, key=key, request_hash=body_hash, status_code=status_code, body=body
        )
    )
