"""Helpers for the project's own tests (never imported by service code)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from brightline.platform.auth import Role, issue_token
from brightline.platform.settings import DEV_AUTH_SECRET


def bearer(*roles: Role | str, subject: str = "agent-1001", secret: str = DEV_AUTH_SECRET, **claims: Any) -> dict:
    return {"Authorization": f"Bearer {issue_token(secret, subject, list(roles), **claims)}"}


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (database, migrations, Kafka, consumers) and give a client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll until check() returns something truthy; fail with the last value otherwise.

    This waits for asynchronous effects (events crossing Kafka); it asserts nothing about speed.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")
