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
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.messaging.schema import idempotency_keys


class IdempotencyKeyReused(ValueError):
    """The key was used before with a different request body."""


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def lock_and_lookup(session: AsyncSession, scope: str, key: str, body_hash: str) -> StoredResponse | None:
    """Serialise concurrent requests with one key (transaction-scoped advisory lock), then
    return the stored response if the first one already committed."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(f"{scope}:{key}", 0))))
    row = (
        await session.execute(
            sa.select(idempotency_keys).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise IdempotencyKeyReused(key)
    return StoredResponse(row.status_code, row.body)


async def remember(session: AsyncSession, scope: str, key: str, body_hash: str, status_code: int, body: Any) -> None:
    await session.execute(
        insert(idempotency_keys).values(
            scope=scope, key=key, request_hash=body_hash, status_code=status_code, body=body
        )
    )
