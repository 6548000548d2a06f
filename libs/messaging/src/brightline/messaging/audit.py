"""The audit trail, the same for every service: one append-only table, a tamper-evident chain.

What writes it (nothing in a service's business code has to):

- every unit of work of the runtime (brightline.messaging.unit_of_work) that commits, in its
  own transaction: a request (who: the signed-in principal), a handled event (who: the
  event's source; redeliveries the inbox absorbs write nothing) or a scheduled job that
  changed something. The rows it wrote, updated or deleted are captured on the way
  (`do_orm_execute` on the session: the rows a statement touches are read before and after
  it), with personal data and secrets masked, next to the events it emitted;
- every other request (POST/PUT/PATCH/DELETE answered below 400) that wrote rows through no
  unit of work (a bare connection), such as the console's sign-in directory and chases: the
  middleware writes who, which route, which ids, the rows written and the (masked) request
  body before the response leaves. A POST that only computes (an etiquette check) writes
  nothing, so it leaves no row.

Each row carries the SHA-256 of its content and of the previous row's hash, taken under a
transaction-level advisory lock, so the chain follows commit order. `verify` (also
`python -m brightline.messaging.audit verify`) recomputes the chain and names the first row
that was edited, deleted or inserted out of band. A trigger refuses UPDATE, DELETE and
TRUNCATE. Reads of confidential fields are audited where they happen (casework's
/audit/confidential-reads).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import hashlib
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Depends, Query, Request
from opentelemetry import trace
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Delete, Insert, Update
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brightline.platform.auth import Principal, Supervisor
from brightline.platform.logging import (
    CURRENT_TICKET,
    PERSONAL_KEYS,
    TICKET_PROVIDERS,
    bind_ticket,
    current_ticket,
    mask_value,
)
from brightline.platform.problems import Problem

if TYPE_CHECKING:  # the unit of work calls into this module
    from brightline.messaging.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

metadata = sa.MetaData()

audit_trail = sa.Table(
    "audit_trail",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # request | event | job
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(300), nullable=False),
    sa.Column("subject", sa.String(200)),
    sa.Column("ticket_id", sa.String(200)),
    sa.Column("changes", JSONB, nullable=False),
    sa.Column("detail", JSONB, nullable=False),
    sa.Column("trace_id", sa.String(32)),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
sa.Index("ix_audit_trail_ticket_id", audit_trail.c.ticket_id, audit_trail.c.seq)
sa.Index("ix_audit_trail_subject", audit_trail.c.subject, audit_trail.c.seq)
sa.Index("ix_audit_trail_at", audit_trail.c.at)

GENESIS = "0" * 64
# Tables whose rows are the machinery, not the business: never captured as changes.
UNAUDITED_TABLES = {"outbox", "inbox", "idempotency_keys", "audit_trail", "alembic_version"}
SECRET_PARTS = ("pin", "password", "secret", "token", "credential", "api_key")
# Personal data kept masked for years: a key naming one of these is masked like in the logs.
PERSONAL_PARTS = {"phone": "phone", "address": "address", "contact": "contact"}
NOT_PERSONAL = {"username", "service_name", "limit_name", "area_name", "unit_name", "crew_name"}
MAX_ROWS = 50  # rows per change entry kept in full; the count says how many there were
MAX_BODY = 16_384  # request bytes kept for a request that wrote through no unit of work
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
_LOCK_SQL = sa.text("SELECT pg_advisory_xact_lock(hashtext('brightline.audit_trail'))")


# ----------------------------------------------------------------------------- content and hash


def _masked(key: str, value: Any) -> Any:
    lowered = key.lower()
    if any(part in lowered for part in SECRET_PARTS) and value is not None:
        return "***"
    if lowered in PERSONAL_KEYS:
        return mask_value(lowered, value)
    if isinstance(value, str) and lowered not in NOT_PERSONAL:
        for part, kind in PERSONAL_PARTS.items():
            if part in lowered:
                return mask_value(kind, value)
        if lowered.endswith("name"):
            return mask_value("name", value)
    return _mask(value)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _masked(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


def _normal(value: Any) -> Any:
    """What JSONB gives back for `value`: hashes are taken over this form, so a row read back
    hashes exactly as it did when written."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    content = {
        "at": row["at"].astimezone(UTC).isoformat(),
        **{
            k: _integral(row[k])
            for k in (
                "kind",
                "actor",
                "action",
                "subject",
                "ticket_id",
                "changes",
                "detail",
                "trace_id",
            )
        },
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


async def append(session: AsyncSession, **row: Any) -> int:
    """Append one row to the chain inside the caller's transaction. The advisory lock is held
    to the end of that transaction: rows chain in commit order."""
    row = {
        "at": datetime.now(UTC),
        "subject": None,
        "ticket_id": None,
        "trace_id": _trace_id(),
        **row,
    }
    row["changes"] = _normal(row.get("changes") or [])
    row["detail"] = _normal(row.get("detail") or {})
    for key in ("subject", "ticket_id"):
        if row[key] is not None:
            row[key] = str(row[key])[:200]
    row["action"] = row["action"][:300]
    row["actor"] = row["actor"][:200]
    await session.execute(_LOCK_SQL)
    prev = await session.scalar(
        sa.select(audit_trail.c.hash).order_by(audit_trail.c.seq.desc()).limit(1)
    )
    row["prev_hash"] = prev or GENESIS
    row["hash"] = row_hash(row["prev_hash"], row)
    seq: int = await session.scalar(audit_trail.insert().values(**row).returning(audit_trail.c.seq))
    # One log line per change: with trace_id and ticket_id, a ticket can be followed across
    # services in the logs alone.
    token = bind_ticket(row["ticket_id"])
    try:
        log.info("audited #%s %s by %s", seq, row["action"], row["actor"])
    finally:
        if token is not None:
            CURRENT_TICKET.reset(token)
    return seq


def _trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


# ----------------------------------------------------------------------------- change capture


def _column_name(key: Any) -> str:
    return getattr(key, "key", None) or str(key)


def _statement_rows(
    statement: Any, table: sa.Table, multiparams: object, params: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The rows an INSERT/UPDATE writes: executemany parameters, a multi-row VALUES, or the
    single VALUES of the statement."""
    if isinstance(multiparams, list | tuple) and multiparams:
        return [dict(p) for p in multiparams if isinstance(p, dict)]
    if isinstance(multiparams, dict) and multiparams:
        return [dict(multiparams)]
    if params:
        return [dict(params)]
    multi = getattr(statement, "_multi_values", None)  # insert().values([{...}, {...}])
    if multi:
        return [{_column_name(k): v for k, v in row.items()} for row in multi[0]]
    compiled = statement.compile().params
    return [{k: v for k, v in compiled.items() if k in table.c}]


CHANGES = "audit_changes"
MORE = "audit_more"
MAX_ENTRIES = 200  # change entries (statements) kept per unit of work


def _pk_filter(table: sa.Table, rows: list[dict[str, Any]]) -> sa.ColumnElement[bool] | None:
    keys = list(table.primary_key.columns)
    if not keys or not rows:
        return None
    if len(keys) == 1:
        return keys[0].in_([r[keys[0].name] for r in rows])
    return sa.tuple_(*keys).in_([tuple(r[k.name] for k in keys) for r in rows])


@sa_event.listens_for(Session, "do_orm_execute")
def _capture_change(state: ORMExecuteState) -> Result[Any] | None:
    """Rows a DML statement of an audited session touches: inserted values; updated rows before
    and after; deleted rows before."""
    changes = state.session.info.get(CHANGES)
    if changes is None or not (state.is_insert or state.is_update or state.is_delete):
        return None
    statement = state.statement
    table = getattr(statement, "table", None)
    if not isinstance(table, sa.Table) or table.name in UNAUDITED_TABLES:
        return None
    connection = state.session.connection()
    where = getattr(statement, "whereclause", None)
    params = state.parameters
    many = isinstance(params, list | tuple)
    before: list[dict[str, Any]] = []
    if (state.is_update or state.is_delete) and where is not None and not many:
        # The statement's own bound values fill any bindparam() of its WHERE clause.
        before = [
            dict(r)
            for r in connection.execute(
                sa.select(table).where(where).limit(MAX_ROWS + 1), params or {}
            )
            .mappings()
            .all()
        ]
    result = state.invoke_statement()
    entry: dict[str, Any] = {"table": table.name}
    if isinstance(params, list | tuple) and not state.is_insert:  # an executemany UPDATE/DELETE
        rows = [dict(p) for p in params]  # the values it was given
        entry.update(op=state.statement.__visit_name__, count=len(rows))
        entry["after"] = [_mask(r) for r in rows[:MAX_ROWS]]
    elif state.is_insert:
        rows = _statement_rows(statement, table, state.parameters, None)
        entry.update(op="insert", count=len(rows), after=[_mask(r) for r in rows[:MAX_ROWS]])
    elif state.is_update:
        rowcount: int = getattr(result, "rowcount", -1)  # a CursorResult's; -1 when unknown
        after = []
        if (pk := _pk_filter(table, before)) is not None:
            after = [dict(r) for r in connection.execute(sa.select(table).where(pk)).mappings()]
        entry.update(
            op="update",
            count=rowcount if rowcount >= 0 else len(before),
            before=[_mask(r) for r in before[:MAX_ROWS]],
            after=[_mask(r) for r in after[:MAX_ROWS]],
        )
    else:
        entry.update(op="delete", count=len(before), before=[_mask(r) for r in before[:MAX_ROWS]])
    if not (entry.get("count") or state.is_insert):
        return result
    if len(changes) < MAX_ENTRIES:
        changes.append(entry)
    else:  # a bulk import: the first statements in full, then how many more and of what
        more = state.session.info.setdefault(MORE, {})
        key = f"{entry['op']} {table.name}"
        more[key] = more.get(key, 0) + entry["count"]
    return result


@sa_event.listens_for(Engine, "before_execute")
def _note_request_write(
    conn: Connection,
    clauseelement: Executable,
    multiparams: object,
    params: Mapping[str, Any],
    execution_options: object,
) -> None:
    """Writes a request makes outside a unit of work (a bare connection), for the middleware's
    row of that request."""
    request = CURRENT_REQUEST.get()
    if request is None or request.written or len(request.dml) >= MAX_ROWS:
        return
    if not isinstance(clauseelement, Insert | Update | Delete):
        return
    table = clauseelement.table
    if not isinstance(table, sa.Table) or table.name in UNAUDITED_TABLES:
        return
    entry: dict[str, Any] = {"table": table.name, "op": clauseelement.__visit_name__}
    if isinstance(clauseelement, Insert | Update):
        rows = _statement_rows(clauseelement, table, multiparams, params)
        entry.update(count=len(rows), after=[_mask(r) for r in rows[:MAX_ROWS]])
    request.dml.append(entry)


# ----------------------------------------------------------------------------- who and what


@dataclass
class RequestAudit:
    """The request being served (set by AuditMiddleware)."""

    scope: Scope
    body: bytearray = field(default_factory=bytearray)
    written: bool = False  # a unit of work of this request wrote its row
    ticket_id: str | None = None  # the ticket its units of work were about (for log lines)
    dml: list[dict[str, Any]] = field(
        default_factory=list
    )  # writes seen on any connection meanwhile

    @property
    def method(self) -> str:
        return str(self.scope.get("method", ""))

    @property
    def principal(self) -> Principal | None:
        return (self.scope.get("state") or {}).get("principal")

    @property
    def actor(self) -> str:
        principal = self.principal
        return getattr(principal, "subject", None) or "anonymous"

    @property
    def action(self) -> str:
        route = self.scope.get("route")
        return f"{self.method} {getattr(route, 'path', None) or self.scope.get('path', '')}"

    @property
    def path_params(self) -> dict[str, Any]:
        return dict(self.scope.get("path_params") or {})

    def who(self) -> dict[str, Any]:
        principal = self.principal
        detail: dict[str, Any] = {"path": self.scope.get("path")}
        if principal is not None:
            detail["roles"] = sorted(str(r) for r in getattr(principal, "roles", ()))
            for name in ("staff_no", "crew_id", "unit_id", "department_id"):
                if value := getattr(principal, name, None):
                    detail[name] = value
        if self.path_params:
            detail["path_params"] = self.path_params
        return detail


CURRENT_REQUEST: contextvars.ContextVar[RequestAudit | None] = contextvars.ContextVar(
    "brightline_audit_request", default=None
)


def _request_ticket() -> str | None:
    request = CURRENT_REQUEST.get()
    if request is None:
        return None
    return request.path_params.get("ticket_id") or request.ticket_id


TICKET_PROVIDERS.append(_request_ticket)  # log lines of /tickets/{ticket_id}/... name it


def _ticket_of(*sources: Any) -> str | None:
    for source in sources:
        if isinstance(source, dict):
            for key in ("ticket_id", "linked_ticket_id"):
                if source.get(key):
                    return str(source[key])
    bound = structlog.contextvars.get_contextvars().get("ticket_id")
    return str(bound) if bound else current_ticket()


def _changed_rows(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for c in changes for r in (c.get("after") or c.get("before") or [])]


class AuditTrail:
    """Handed to a service's sessions (session.info["audit"]); UnitOfWork.commit calls
    record_unit_of_work before it commits."""

    def __init__(self, service: str) -> None:
        self.service = service

    def begin(self, session: AsyncSession) -> None:
        session.info[CHANGES] = []
        session.info[MORE] = {}

    async def record_unit_of_work(self, uow: UnitOfWork) -> None:
        session: AsyncSession = uow.session
        changes: list[dict[str, Any]] = list(session.info.get(CHANGES) or [])
        if more := session.info.get(MORE):
            changes.append({"op": "more", "rows": more})
        emitted = [{"id": e.id, "type": e.type, "subject": e.subject} for e in uow.pending]
        emitted_data = [e.data for e in uow.pending]
        request = CURRENT_REQUEST.get()
        cause = uow.causation
        if cause is not None:
            row = dict(
                kind="event",
                actor=f"event:{cause.source}",
                action=cause.type,
                subject=cause.subject,
                ticket_id=_ticket_of(cause.data, *emitted_data, *_changed_rows(changes)),
                detail={"event_id": cause.id, "events": emitted},
            )
        elif request is not None:
            if request.method not in STATE_CHANGING and not (changes or emitted):
                return  # a read that committed nothing
            params = request.path_params
            ticket_id = _ticket_of(params, *emitted_data, *_changed_rows(changes))
            row = dict(
                kind="request",
                actor=request.actor,
                action=request.action,
                subject=next(iter(params.values()), None)
                or (emitted[0]["subject"] if emitted else None),
                ticket_id=ticket_id,
                detail={**request.who(), "events": emitted},
            )
            request.written = True
            request.ticket_id = request.ticket_id or ticket_id
        elif changes or emitted:
            row = dict(
                kind="job",
                actor=f"system:{self.service}",
                action="scheduled: " + ", ".join(sorted({e["type"] for e in emitted} or {"-"})),
                subject=emitted[0]["subject"] if emitted else None,
                ticket_id=_ticket_of(*emitted_data, *_changed_rows(changes)),
                detail={"events": emitted},
            )
        else:
            return
        await append(session, changes=changes, **row)
        session.info[CHANGES], session.info[MORE] = [], {}


class AuditMiddleware:
    """Pure ASGI: marks the request for the units of work it runs, keeps the first bytes of a
    state-changing request's body, and writes the row of a state-changing request that wrote
    through no unit of work, before its response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = RequestAudit(scope)
        token = CURRENT_REQUEST.set(request)
        changing = request.method in STATE_CHANGING

        async def keep_body() -> Message:
            message = await receive()
            if changing and message["type"] == "http.request":
                room = MAX_BODY + 1 - len(request.body)
                if room > 0:
                    request.body.extend(message.get("body", b"")[:room])
            return message

        async def audited_send(message: Message) -> None:
            if (
                message["type"] == "http.response.start"
                and changing
                and not request.written
                and request.dml
                and message["status"] < 400
            ):
                await self._write_fallback(request, message["status"])
            await send(message)

        try:
            await self.app(scope, keep_body if changing else receive, audited_send)
        finally:
            CURRENT_REQUEST.reset(token)

    async def _write_fallback(self, request: RequestAudit, status: int) -> None:
        runtime = getattr(getattr(request.scope.get("app"), "state", None), "runtime", None)
        if runtime is None:
            return
        detail = {**request.who(), "status": status}
        body = bytes(request.body)
        if body:
            try:
                detail["request"] = _mask(json.loads(body)) if len(body) <= MAX_BODY else None
            except ValueError:
                detail["request"] = None
            detail["request_bytes"] = len(body)
        params = request.path_params
        try:
            async with runtime.sessions() as session, session.begin():
                await append(
                    session,
                    kind="request",
                    actor=request.actor,
                    action=request.action,
                    subject=next(iter(params.values()), None),
                    ticket_id=_ticket_of(
                        params, detail.get("request"), *_changed_rows(request.dml)
                    ),
                    changes=request.dml,
                    detail=detail,
                )
            request.written = True
        except Exception:  # noqa: BLE001 - never turn a done change into an error response
            log.exception("could not write the audit row of %s", request.action)


# ----------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Verification:
    rows: int
    broken_at: int | None = None  # seq of the first row whose hash or link does not hold
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify(engine: AsyncEngine, *, batch: int = 1000) -> Verification:
    """Recompute the chain from the first row; stop at the first row that does not hold."""
    prev, count, after = GENESIS, 0, 0
    async with engine.connect() as conn:
        while True:
            rows = (
                (
                    await conn.execute(
                        sa.select(audit_trail)
                        .where(audit_trail.c.seq > after)
                        .order_by(audit_trail.c.seq)
                        .limit(batch)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                return Verification(rows=count)
            for row in rows:
                if row["prev_hash"] != prev:
                    return Verification(count, row["seq"], "previous row missing or changed")
                if row_hash(prev, dict(row)) != row["hash"]:
                    return Verification(count, row["seq"], "row content changed")
                prev, count, after = row["hash"], count + 1, row["seq"]


def main(argv: list[str] | None = None) -> int:
    """`python -m brightline.messaging.audit verify <database URL>`: exit 0 if intact."""
    parser = argparse.ArgumentParser(prog="python -m brightline.messaging.audit")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="recompute the hash chain of a service's audit trail")
    check.add_argument("database_url", help="the service's database (SQLAlchemy asyncpg URL)")
    args = parser.parse_args(argv)

    async def run() -> Verification:
        from brightline.platform.db import create_engine

        engine = create_engine(args.database_url, pool_size=1)
        try:
            return await verify(engine)
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    if result.intact:
        print(f"audit trail intact: {result.rows} rows")
        return 0
    print(f"audit trail BROKEN at seq {result.broken_at}: {result.reason} ({result.rows} rows ok)")
    return 1


# ----------------------------------------------------------------------------- migration


def create_audit_table_v1() -> None:
    """Called from each service's lifecycle migration. Frozen: a change is a new function."""
    from alembic import op

    metadata.create_all(op.get_bind(), tables=[audit_trail])
    op.execute(
        """
        CREATE FUNCTION audit_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_trail is append-only (% refused)', TG_OP;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON audit_trail "
        "FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_append_only()"
    )


def drop_audit_table_v1() -> None:
    from alembic import op

    op.execute("DROP TABLE IF EXISTS audit_trail")
    op.execute("DROP FUNCTION IF EXISTS audit_trail_append_only()")


# ----------------------------------------------------------------------------- GET /audit/events


async def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.runtime.engine
    return engine


EngineDep = Annotated[AsyncEngine, Depends(_engine)]


class AuditRecord(BaseModel):
    """One audited change: who, what, when, the rows before and after, its place in the chain."""

    seq: int  # position in this service's trail; pass the last one as `after` for the next page
    at: datetime
    kind: str  # request | event | job
    actor: str  # principal subject, event:<source>, or system:<service>
    action: str  # "METHOD /route/{template}" or the handled event's type
    subject: str | None
    ticket_id: str | None
    changes: list[dict[str, Any]]
    detail: dict[str, Any]
    trace_id: str | None
    hash: str


def _utc(value: datetime | None, field_name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise Problem(
            422,
            "validation-error",
            "Invalid time",
            str(error),
            errors=[{"field": field_name, "message": "out of range"}],
        ) from error


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/audit", tags=["audit"])

    @router.get("/events", response_model=list[AuditRecord])
    async def audit_events(
        engine: EngineDep,
        supervisor: Supervisor,
        subject: Annotated[
            str | None, Query(max_length=200, description="the id the change is about")
        ] = None,
        ticket_id: Annotated[str | None, Query(max_length=200)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
        kind: Annotated[str | None, Query(pattern="^(request|event|job)$")] = None,
        action: Annotated[
            str | None, Query(max_length=300, description="route or handled event type")
        ] = None,
        event_type: Annotated[
            str | None, Query(max_length=200, description="handled or emitted event type")
        ] = None,
        since: Annotated[AwareDatetime | None, Query(description="at or after")] = None,
        until: Annotated[AwareDatetime | None, Query(description="before")] = None,
        after: Annotated[
            int | None,
            Query(ge=0, le=2**62, description="seq of the last row of the previous page"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[AuditRecord]:
        """This service's audit trail, oldest first, filtered and paged by `after` (keyset)."""
        query = sa.select(audit_trail).order_by(audit_trail.c.seq).limit(limit)
        if subject is not None:
            query = query.where(audit_trail.c.subject == subject)
        if ticket_id is not None:
            query = query.where(audit_trail.c.ticket_id == ticket_id)
        if actor is not None:
            query = query.where(audit_trail.c.actor == actor)
        if kind is not None:
            query = query.where(audit_trail.c.kind == kind)
        if action is not None:
            query = query.where(audit_trail.c.action == action)
        if event_type is not None:
            query = query.where(
                sa.or_(
                    audit_trail.c.action == event_type,
                    audit_trail.c.detail["events"].contains([{"type": event_type}]),
                )
            )
        if (start := _utc(since, "since")) is not None:
            query = query.where(audit_trail.c.at >= start)
        if (end := _utc(until, "until")) is not None:
            query = query.where(audit_trail.c.at < end)
        if after is not None:
            query = query.where(audit_trail.c.seq > after)
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [AuditRecord(**row) for row in rows]

    return router


if __name__ == "__main__":
    sys.exit(main())
