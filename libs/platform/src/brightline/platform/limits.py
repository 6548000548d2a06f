"""Abuse limits applied before anything else reads a request: the body size (413 from the
Content-Length header, and from a streamed count for chunked bodies), ahead of authentication
and validation, so a large unauthenticated body costs nothing; and NUL, which no field may
carry (422)."""

from __future__ import annotations

import re

from fastapi.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from brightline.platform.problems import PROBLEM_JSON, Problem

# NUL (U+0000) cannot be stored in PostgreSQL text, so no field may carry one: a JSON string
# escape \u0000 (not itself escaped), %00 in the query, or NUL in the path is refused up front.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RequestGuard:
    """What every request passes before the app sees it: a body over `default` bytes gets 413
    problem+json (`paths` raise the limit for routes that take large bodies: regex on the path
    -> bytes), a request carrying NUL anywhere a field can gets 422 problem+json. Called by
    brightline.platform.app.HttpEdge, not an ASGI layer of its own: the size check needs the
    body read and the NUL check reads it whole, so one read serves both, and each layer cost
    every request a call, a closure and a wrapped receive or send."""

    def __init__(self, default: int, paths: dict[str, int] | None = None) -> None:
        self.default = default
        self.paths = [(re.compile(p), n) for p, n in (paths or {}).items()]

    def limit_for(self, path: str) -> int:
        return next((n for pattern, n in self.paths if pattern.match(path)), self.default)

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The request's `receive`, its body read and handed over again, or None when the
        request is refused (the problem sent)."""
        path = scope.get("path", "")
        limit = self.limit_for(path)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._refuse(scope, receive, send, 400, limit)
                    return None
                if declared > limit:  # refused before a byte of it is read
                    await self._refuse(scope, receive, send, 413, limit)
                    return None
        if b"%00" in scope.get("query_string", b"") or "\x00" in path:
            await self._refuse(
                scope, receive, send, 422, limit, "path" if "\x00" in path else "query"
            )
            return None
        messages, chunks, size = [], [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(chunk := message.get("body", b""))
            size += len(chunk)
            if size > limit:  # a chunked body: counted as it comes
                await self._refuse(scope, receive, send, 413, limit)
                return None
            if not message.get("more_body"):
                break
        body = b"".join(chunks)  # one chunk, the usual case: that chunk itself
        # The regex tries every position of the body; the plain search for its end does not.
        if b"\x00" in body or (b"\\u0000" in body and _JSON_NUL.search(body)):
            await self._refuse(scope, receive, send, 422, limit, "body")
            return None
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        return replayed

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        limit: int,
        where: str = "body",
    ) -> None:
        """`where`: the part of the request holding a NUL (the JSON field is not looked for:
        the body is refused before it is parsed)."""
        headers = None
        if status == 413:
            problem = Problem(
                413,
                "payload-too-large",
                "Request body too large",
                f"the limit for this route is {limit} bytes",
            )
            headers = {"Connection": "close"}
        elif status == 400:
            problem = Problem(400, "bad-request", "Invalid Content-Length header")
            headers = {"Connection": "close"}
        else:
            problem = Problem(
                422,
                "validation-error",
                "Request is not valid",
                "Text may not contain the NUL character (U+0000)",
                errors=[{"field": where, "message": "contains U+0000", "type": "nul_character"}],
            )
        response = JSONResponse(
            problem.body(scope.get("path")),
            status_code=status,
            media_type=PROBLEM_JSON,
            headers=headers,
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
