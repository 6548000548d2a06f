"""Abuse limits applied before anything else reads a request: the body size (413 from the
Content-Length header, and from a streamed count for chunked bodies), ahead of authentication,
validation and the NUL check, so a large unauthenticated body costs nothing."""

from __future__ import annotations

import re

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brightline.platform.problems import PROBLEM_JSON, Problem


class BodyLimit:
    """ASGI middleware: bodies over `default` bytes get 413 problem+json; `paths` raise the
    limit for routes that take large bodies (regex on the path -> bytes)."""

    def __init__(self, app: ASGIApp, default: int, paths: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.paths = [(re.compile(p), n) for p, n in (paths or {}).items()]

    def limit_for(self, path: str) -> int:
        return next((n for pattern, n in self.paths if pattern.match(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await self._refuse(scope, receive, send, 400, limit)
                if declared > limit:
                    return await self._refuse(scope, receive, send, 413, limit)
        state = {"seen": 0, "refused": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > limit and not state["refused"]:
                    state["refused"] = True
                    await self._refuse(scope, receive, send, 413, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not state["refused"]:
                await send(message)

        await self.app(scope, counted, guarded_send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, limit: int
    ) -> None:
        if status == 413:
            problem = Problem(
                413,
                "payload-too-large",
                "Request body too large",
                f"the limit for this route is {limit} bytes",
            )
        else:
            problem = Problem(400, "bad-request", "Invalid Content-Length header")
        response = JSONResponse(
            problem.body(scope.get("path")),
            status_code=status,
            media_type=PROBLEM_JSON,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def security_headers(csp: str | None = None) -> list[tuple[bytes, bytes]]:
    """The usual security headers for every response; `csp` when given (the console's pages).
    Added by brightline.platform.app.HttpEdge."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if csp:
        headers.append((b"content-security-policy", csp.encode()))
    return headers
