"""RFC 9457 problem+json for every error, with a stable `type` a client can switch on."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://brightline.dev/problems/"


class Problem(Exception):
    """Raise from a route or handler: `raise Problem(409, "illegal-transition", "…", allowed=[…])`."""

    def __init__(
        self,
        status: int,
        type_: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        super().__init__(detail or title)
        self.headers = headers
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.type,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def problem_response(
    problem: Problem, request: Request | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem.body(request.url.path if request else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


MAX_ERRORS = 20

STATUS_TYPES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem, request, headers=problem.headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {
                # "body.phone" → "phone": the field a client must fix.
                "field": ".".join(str(p) for p in e["loc"] if p not in ("body",)),
                "message": e["msg"],
                "type": e["type"],
            }
            for e in error.errors()[:MAX_ERRORS]  # capped: a huge bad body gets a small answer
        ]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            Problem(
                422,
                "validation-error",
                "Request is not valid",
                f"Fix these fields: {fields}",
                errors=errors,
            ),
            request,
        )

    from sqlalchemy.exc import DBAPIError

    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)  # connecting over a unix socket while Postgres restarts
    async def on_database_error(request: Request, error: Exception) -> JSONResponse:
        """The database restarting, or ending the transaction for a conflict with another (a
        deadlock's victim), is a 503 a client may retry (with its Idempotency-Key), not a 500;
        any other database error is a bug and stays a 500."""
        from sqlalchemy.exc import DataError

        from brightline.platform.db import database_unavailable, transaction_conflict

        if isinstance(error, DataError):  # a value the column cannot take (too long, not a uuid)
            return problem_response(
                Problem(
                    422,
                    "validation-error",
                    "Request is not valid",
                    "A value does not fit what is stored (too long or malformed)",
                ),
                request,
            )
        if transaction_conflict(error):  # rolled back whole: the same request may run again
            detail = "The change met a concurrent one and was not made; retry shortly"
        elif database_unavailable(error):
            detail = "The database is restarting; retry shortly"
        else:
            raise error
        return problem_response(
            Problem(503, "unavailable", "Service briefly unavailable", detail),
            request,
            headers={"Retry-After": "1"},
        )

    from sqlalchemy.exc import TimeoutError as PoolTimeout

    @app.exception_handler(PoolTimeout)
    async def on_pool_timeout(request: Request, error: PoolTimeout) -> JSONResponse:
        """No pooled connection came free within the pool's timeout: the service is overloaded
        (admission keeps requests from getting here; consumers share the pool), not broken."""
        from brightline.platform.admission import SHED, overloaded

        SHED.labels("pool-timeout").inc()
        problem = overloaded()
        return problem_response(problem, request, headers=problem.headers)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem = Problem(
            error.status_code,
            STATUS_TYPES.get(error.status_code, "http-error"),
            str(error.detail) if error.detail else "HTTP error",
        )
        return problem_response(problem, request, headers=getattr(error, "headers", None))
