"""Web sessions: the identity provider's tokens kept in the console's database, found by the
sha256 of an opaque cookie value. Pending sign-ins keep their PKCE verifier here too, so no
token or verifier ever reaches the browser."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from brightline.console.adapters.oidc import Tokens
from brightline.console.adapters.orm import oidc_logins, web_sessions
from brightline.platform import clock

LOGIN_TTL = timedelta(minutes=10)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class WebSessions:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def start_login(self, *, code_verifier: str, nonce: str, next_path: str) -> str:
        state = secrets.token_urlsafe(32)
        now = clock.now()
        async with self.engine.begin() as conn:
            await conn.execute(
                oidc_logins.delete().where(oidc_logins.c.created_at < now - LOGIN_TTL)
            )
            await conn.execute(
                oidc_logins.insert().values(
                    state=state,
                    code_verifier=code_verifier,
                    nonce=nonce,
                    next_path=next_path,
                    created_at=now,
                )
            )
        return state

    async def take_login(self, state: str):
        """The pending sign-in of this state, once (a replayed callback finds nothing)."""
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    oidc_logins.delete()
                    .where(oidc_logins.c.state == state)
                    .returning(*oidc_logins.c)
                )
            ).first()
        if row is None or row.created_at < clock.now() - LOGIN_TTL:
            return None
        return row

    async def create(self, subject: str, tokens: Tokens) -> str:
        """A new session; returns the cookie value (only its hash is stored)."""
        cookie = secrets.token_urlsafe(32)
        now = clock.now()
        async with self.engine.begin() as conn:
            await conn.execute(
                web_sessions.insert().values(
                    id_hash=_hash(cookie),
                    subject=subject,
                    created_at=now,
                    **_token_values(tokens, now),
                )
            )
        return cookie

    async def get(self, cookie: str):
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(web_sessions).where(web_sessions.c.id_hash == _hash(cookie))
                )
            ).first()

    async def update(self, cookie: str, tokens: Tokens) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                web_sessions.update()
                .where(web_sessions.c.id_hash == _hash(cookie))
                .values(**_token_values(tokens, clock.now()))
            )

    async def delete(self, cookie: str):
        async with self.engine.begin() as conn:
            return (
                await conn.execute(
                    web_sessions.delete()
                    .where(web_sessions.c.id_hash == _hash(cookie))
                    .returning(*web_sessions.c)
                )
            ).first()


def _token_values(tokens: Tokens, now: datetime) -> dict:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "id_token": tokens.id_token,
        "access_expires_at": now + timedelta(seconds=tokens.expires_in),
        "refresh_expires_at": now + timedelta(seconds=tokens.refresh_expires_in)
        if tokens.refresh_expires_in
        else None,
    }
