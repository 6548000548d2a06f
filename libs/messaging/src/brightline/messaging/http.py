"""Idempotency-Key for a route: the first response is stored with the effect and replayed for
any retry with the same key and body (a phone on a bad line, a client that timed out)."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any, Self, cast

import sqlalchemy as sa
from fastapi import Header
from fastapi.responses import JSONResponse

from brightline.messaging import idempotency
from brightline.messaging.schema import idempotency_keys
from brightline.messaging.unit_of_work import UnitOfWork
from brightline.platform.auth import CURRENT_PRINCIPAL
from brightline.platform.problems import Problem

_KEY = re.compile(r"[\x21-\x7e]{1,200}")

# The Idempotency-Key header of every route that takes one (a parameter named idempotency_key):
# printable ASCII without spaces, at most 200 characters.
IdempotencyKey = Annotated[str | None, Header(max_length=200, pattern=r"^[\x21-\x7e]+$")]


# What idempotency_keys.scope holds (a String of fixed length).
_SCOPE_TYPE = cast(sa.String, idempotency_keys.c.scope.type)
assert _SCOPE_TYPE.length is not None
SCOPE_LENGTH: int = _SCOPE_TYPE.length


def caller_scope(scope: str) -> str:
    """The scope of a key, per caller: one user's key never replays another user's response.
    A scope that names what the request names (`mobile:<crew>:<order>:accept`) is as long as the
    path's ids; past the column's length it keeps its start and a digest of the whole (a 60-character
    order id in the path was a 500 from PostgreSQL, before the order was even looked up)."""
    principal = CURRENT_PRINCIPAL.get()
    if principal is not None:
        scope = f"{scope}@{hashlib.sha256(principal.subject.encode()).hexdigest()[:16]}"
    if len(scope) <= SCOPE_LENGTH:
        return scope
    digest = hashlib.sha256(scope.encode()).hexdigest()[:32]
    return f"{scope[: SCOPE_LENGTH - len(digest) - 1]}#{digest}"


class IdempotentCommand:
    """`async with uow, IdempotentCommand(uow, scope, key, body) as once:` then either
    `return once.response` when `once.replayed`, or `return await once.respond(201, body)`,
    which stores the response and commits the unit of work."""

    def __init__(self, uow: UnitOfWork, scope: str, key: str | None, body: Any) -> None:
        if key is not None and not _KEY.fullmatch(key):
            raise Problem(
                422,
                "validation-error",
                "Request is not valid",
                "Idempotency-Key: 1 to 200 visible ASCII characters",
                errors=[{"field": "Idempotency-Key", "message": "visible ASCII, at most 200"}],
            )
        self.uow = uow
        self.scope = caller_scope(scope)
        self.key = key
        self.hash = idempotency.request_hash(body)
        self.replayed = False
        self.response: JSONResponse | None = None

    async def __aenter__(self) -> Self:
        if self.key:
            try:
                stored = await idempotency.lock_and_lookup(
                    self.uow.session, self.scope, self.key, self.hash
                )
            except idempotency.IdempotencyKeyReused as error:
                raise _reused(error) from error
            if stored is not None:
                self._replay(stored)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def _replay(self, stored: idempotency.StoredResponse) -> None:
        self.replayed = True
        self.response = JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )

    async def respond(self, status_code: int, body: Any) -> JSONResponse:
        """Store the response with the command's effects and commit; a deferred claim not
        made by then is made by the commit's first statement."""
        if not self.key:
            await self.uow.commit()
            return JSONResponse(body, status_code=status_code)
        args = (self.scope, self.key, self.hash, status_code, body)

        async def stored(rows: list[Any] | None) -> None:
            if not rows or rows[0][0] is None:
                await idempotency.store_unclaimed(self.uow.session, *args)

        # The response and the outbox rows in one statement, then the commit.
        await self.uow.commit(
            last=idempotency.REMEMBER, params=idempotency.remember_params(*args), verify=stored
        )
        return JSONResponse(body, status_code=status_code)


class DeferredIdempotentCommand(IdempotentCommand):
    """An IdempotentCommand whose key is claimed with the command's first statement, not in a
    round trip of its own (idempotency.defer_claim; a statement built with idempotency.riding
    carries it). A replay is found inside the block and leaves it: the route returns
    `once.response` after the block."""

    async def __aenter__(self) -> Self:
        if self.key:
            idempotency.defer_claim(self.uow.session, self.scope, self.key, self.hash)
        return self

    async def __aexit__(  # type: ignore[override]  # swallows the replay, unlike its base
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> bool:
        if isinstance(error, idempotency.Replayed):
            self._replay(error.stored)
            return True
        if isinstance(error, idempotency.IdempotencyKeyReused):
            raise _reused(error) from error
        return False


def _reused(error: idempotency.IdempotencyKeyReused) -> Problem:
    return Problem(
        422,
        "idempotency-key-reused",
        "Idempotency-Key was used for a different request",
        f"key {error} was first used with another body; use a new key for a new request",
    )
