"""The audit trail, the same for every service: one append-only table, a tamper-evident chain.

What writes it (nothing in a service's business code has to):

- every unit of work of the runtime (brightline.messaging.unit_of_work) that commits, in its
  own transaction and its last round trip (the row rides on the outbox insert or the
  caller's last statement as a data-modifying CTE, under no lock): a request (who: the
  signed-in principal), a handled event (who: the event's source; one row per event, also
  when a consumer applies many in one unit of work; redeliveries the inbox absorbs write
  nothing) or a scheduled job that changed something. The rows it wrote, updated or deleted
  are captured on the way (`do_orm_execute` on the session: an UPDATE or DELETE returns them
  in its own round trip), with personal data and secrets masked, next to the events it
  emitted;
- every other request (POST/PUT/PATCH/DELETE answered below 400) that wrote rows through no
  unit of work (a bare connection), such as the console's sign-in directory and chases: the
  middleware writes who, which route, which ids, the rows written and the (masked) request
  body before the response leaves. A POST that only computes (an etiquette check) writes
  nothing, so it leaves no row.

Rows are inserted unsealed (a trigger queues them in audit_unsealed). The sealer (AuditSealer,
one active per database) chains the rows committed since its last round, about every second:
each gets a seal (audit_seals), inserted once: its place in the chain (chain_seq), the
previous row's hash and the SHA-256 of that hash and its content's digest. `verify` (also
`python -m brightline.messaging.audit verify`) recomputes the sealed chain, names the first row
that was edited, deleted or inserted out of band, and counts the rows not sealed yet. Triggers
refuse UPDATE, DELETE and TRUNCATE of rows and seals. Until it is sealed, a row is protected by
the trigger alone (docs/audit.md). Reads of confidential
fields are audited where they happen (casework's /audit/confidential-reads).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import hashlib
import json
import logging
import sys
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Depends, Query, Request
from opentelemetry import trace
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.elements import BindParameter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brightline.contracts import jsontext
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
from brightline.platform.telemetry import remote_parent
from brightline.platform.waiting import wait_event

if TYPE_CHECKING:  # the unit of work calls into this module
    from brightline.contracts import Event
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
    # JSON, not JSONB (since v5): kept as the text the writer hashed (content_digest), so the
    # digest is the writer's, taken where the text is written, and verify takes it again from
    # the text as it lies.
    sa.Column("changes", JSON, nullable=False),
    sa.Column("detail", JSON, nullable=False),
    sa.Column("trace_id", sa.String(32)),
    # The writer's SHA-256 of the row's content (content_digest, hex), which the sealer chains:
    # not trusted by verify, which takes it again from the content. Null in rows written
    # before v5 (the sealer takes PostgreSQL's, CONTENT_DIGEST, for such a row).
    sa.Column("digest", sa.String(64)),
)
sa.Index("ix_audit_trail_ticket_id", audit_trail.c.ticket_id, audit_trail.c.seq)
sa.Index("ix_audit_trail_subject", audit_trail.c.subject, audit_trail.c.seq)
# By block range (BRIN): the trail only grows, in the order of its times, so a range of pages
# summarised by its least and greatest time finds a window as well as a B-tree entry per row
# did (since v6), at a few pages per million rows and nothing to insert for most rows.
sa.Index("ix_audit_trail_at", audit_trail.c.at, postgresql_using="brin")
# A row's seal, inserted once by the sealer (AuditSealer): its place in the chain (seq is taken
# at insert, which is not commit order) and its links. Apart from the row (v4), so that sealing
# inserts a narrow row instead of rewriting a wide one: an UPDATE of an audit row could never
# stay on its page (HOT), and wrote the whole row and all its index entries again, about a
# third of a ticket's WAL.
audit_seals = sa.Table(
    "audit_seals",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True),  # the audit_trail row sealed
    sa.Column("chain_seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
# The rows committed and not sealed yet, queued by a trigger on audit_trail's inserts (one call
# per statement) and taken off by the sealer in the transaction that seals them.
audit_unsealed = sa.Table(
    "audit_unsealed",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("digest", sa.String(64)),  # the row's, as its writer gave it (v5)
)
# What a row says (hashed; the trigger refuses every UPDATE).
CONTENT = ("kind", "actor", "action", "subject", "ticket_id", "changes", "detail", "trace_id")

GENESIS = "0" * 64
# Tables whose rows are the machinery, not the business: never captured as changes.
UNAUDITED_TABLES = {
    "outbox",
    "inbox",
    "idempotency_keys",
    "audit_trail",
    "audit_seals",
    "audit_unsealed",
    "alembic_version",
}
SECRET_PARTS = ("pin", "password", "secret", "token", "credential", "api_key")
# Personal data kept masked for years: a key naming one of these is masked like in the logs.
PERSONAL_PARTS = {"phone": "phone", "address": "address", "contact": "contact"}
NOT_PERSONAL = {"username", "service_name", "limit_name", "area_name", "unit_name", "crew_name"}
MAX_ROWS = 50  # rows per change entry kept in full; the count says how many there were
MAX_BODY = 16_384  # request bytes kept for a request that wrote through no unit of work
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# One sealer per database at a time (every process of a service runs one; the others skip).
_SEALER_LOCK = sa.text(
    "SELECT pg_try_advisory_xact_lock(hashtext('brightline.audit_trail.sealer'))"
)
SEAL_BATCH = 5000  # rows sealed per transaction; the next round takes the rest
# Rows read, chained and sealed per statement of a round: the round runs in its service's event
# loop, which gets its turn at each statement.
SEAL_CHUNK = 500


# ----------------------------------------------------------------------------- content and hash


def _masked(rule: tuple[bool, str | None, str | None], value: Any) -> Any:
    """A value masked by its key's rule (_rule)."""
    secret, personal, text = rule
    if secret and value is not None:
        return "***"
    if personal is not None:
        return mask_value(personal, value)
    if text is not None and isinstance(value, str):
        return mask_value(text, value)
    return _mask(value)


@lru_cache(maxsize=4096)
def _rule(key: str) -> tuple[bool, str | None, str | None]:
    """How a key's value is masked: (a secret, the personal key it is, the kind of personal
    text it holds). Decided once per key: a captured row asks it for every column."""
    lowered = key.lower()
    secret = any(part in lowered for part in SECRET_PARTS)
    personal = lowered if lowered in PERSONAL_KEYS else None
    if lowered in NOT_PERSONAL:
        return secret, personal, None
    for part, kind in PERSONAL_PARTS.items():
        if part in lowered:
            return secret, personal, kind
    return secret, personal, "name" if lowered.endswith("name") else None


# The rule of a key no rule speaks of: its value is kept as it is, unless it holds more keys.
_PLAIN = (False, None, None)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        masked = {}
        for k, v in value.items():
            key = str(k)
            rule = _rule(key)
            # A column no rule speaks of, holding a scalar (most of a row's), is kept without a
            # call: records' timeline rows made ~20 such calls per event.
            if rule != _PLAIN or isinstance(v, dict | list | tuple):
                v = _masked(rule, v)
            masked[key] = v
        return masked
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


def _json(value: Any) -> jsontext.Dumped:
    """`value` as the JSON text the row's JSON column is given and its digest hashes, written
    once (what JSON has no form of, a time, as its str): reading it back to a dict here, to be
    written again at the insert, cost records' consumer ~9 % of its CPU (three rows per repair
    ticket)."""
    return jsontext.Dumped.of(value, default=str)


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


# The columns kept as the JSON text their writer gave (and hashed).
JSON_TEXT = frozenset({"changes", "detail"})


def content_digest(row: Mapping[Any, Any]) -> str:
    """SHA-256 (hex) of a row's content (v5): one compact JSON array of its time in UTC (ISO
    8601) and CONTENT, the JSON columns embedded as the text they hold. The writer takes it
    from the row it inserts (5-8 µs a row, off the database) and verify from the row as it lies:
    JSON columns keep their text as written, so both hash the same bytes. Taken by PostgreSQL
    at sealing instead (CONTENT_DIGEST, v3), it was about a seventh of the services' database
    CPU: each queued row read and its JSONB written out as text to be hashed."""
    content = [row["at"].astimezone(UTC).isoformat()]
    for key in CONTENT:
        value = row[key]
        content.append(jsontext.Dumped(value) if key in JSON_TEXT else value)
    return hashlib.sha256(jsontext.dumps_embedding(content)).hexdigest()


# A row's content digest as sealers v3 and v4 took it, by PostgreSQL where the row lies: SHA-256
# of the content as one JSONB array (the time in UTC, then CONTENT), in JSONB's own text form,
# one form for one value (keys ordered, spacing fixed). The sealer still takes it for a row
# written without a digest of its writer's (before v5, or by hand), and verify for rows sealed
# with it.
CONTENT_DIGEST = sa.func.sha256(
    sa.func.convert_to(
        sa.cast(
            sa.func.jsonb_build_array(
                sa.func.timezone("UTC", audit_trail.c.at),
                *(
                    sa.cast(audit_trail.c[k], JSONB) if k in JSON_TEXT else audit_trail.c[k]
                    for k in CONTENT
                ),
            ),
            sa.Text,
        ),
        "UTF8",
    )
).label("content_digest")
# What a link of the chain hashes after the previous hash: the digest of its row, marked with
# how it was taken (the writer's, v5, or PostgreSQL's, v3). Rows sealed before v3 hashed their
# canonical JSON there (row_hash), which starts with "{".
V3_LINK = b"\nv3:"
V5_LINK = b"\nv5:"


def chain_hash(prev_hash: str, digest: bytes, link: bytes) -> str:
    """A row's hash as the sealer sets it: the previous row's hash, then its digest."""
    return hashlib.sha256(prev_hash.encode() + link + digest).hexdigest()


def row_hash(prev_hash: str, row: Mapping[Any, Any]) -> str:
    """A row's hash as sealers before v3 set it, over its content read into the service: verify
    checks the rows they sealed with it."""
    content = {
        "at": row["at"].astimezone(UTC).isoformat(),
        **{k: _integral(row[k]) for k in CONTENT},
    }
    return hashlib.sha256(prev_hash.encode() + b"\n" + jsontext.canonical(content)).hexdigest()


def audit_row(**row: Any) -> dict[str, Any]:
    """A row as it is inserted: its JSON columns written to text once, truncated to the columns,
    unsealed. It takes no lock and reads nothing: the sealer chains it after its commit."""
    row = {"at": datetime.now(UTC), "subject": None, "ticket_id": None, **row}
    if "trace_id" not in row:  # an event's row names its cause's (asked once, not twice)
        row["trace_id"] = _trace_id()
    row["changes"] = _json(row.get("changes") or [])
    row["detail"] = _json(row.get("detail") or {})
    for key in ("subject", "ticket_id"):
        if row[key] is not None:
            row[key] = str(row[key])[:200]
    row["action"] = row["action"][:300]
    row["actor"] = row["actor"][:200]
    row["digest"] = content_digest(row)
    return row


def _log_audited(row: Mapping[str, Any]) -> None:
    # One log line per change: with trace_id and ticket_id, a ticket can be followed across
    # services in the logs alone.
    token = bind_ticket(row["ticket_id"])
    try:
        log.info("audited %s by %s", row["action"], row["actor"])
    finally:
        if token is not None:
            CURRENT_TICKET.reset(token)


async def append(session: AsyncSession, **row: Any) -> None:
    """Append one row inside the caller's transaction (one INSERT, no lock)."""
    values = audit_row(**row)
    await session.execute(audit_trail.insert().values(**values))
    _log_audited(values)


def _trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _trace_id_of(cause: Event) -> str | None:
    """The trace of the event that caused the changes, from its traceparent: a consumer's batch
    closes an event's row when the next event starts, outside the first one's trace. An event
    that came without one: the trace current when its row is closed, if any."""
    if cause.traceparent and (parent := remote_parent(cause.traceparent)).is_valid:
        return format(parent.trace_id, "032x")
    return _trace_id()


# ----------------------------------------------------------------------------- change capture


def _column_name(key: Any) -> str:
    return getattr(key, "key", None) or str(key)


# The parameters of the rows that ride on a unit of work's last statement (UnitOfWork.commit).
RIDING = "riding_"


def _statement_rows(
    statement: Any, table: sa.Table, multiparams: object, params: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The rows an INSERT/UPDATE writes: executemany parameters, a multi-row VALUES, or the
    single VALUES of the statement. A statement that carries its own VALUES is read for them
    also when it is executed with parameters: those fill its named binds (and those of the
    rows riding on it as CTEs, UnitOfWork.commit)."""
    if isinstance(multiparams, list | tuple) and multiparams:
        return [dict(p) for p in multiparams if isinstance(p, dict)]
    given = multiparams if isinstance(multiparams, dict) and multiparams else params
    multi = getattr(statement, "_multi_values", None)  # insert().values([{...}, {...}])
    values = getattr(statement, "_values", None)  # insert().values(...), update().values(...)
    if given and not multi and values is None:
        return [{k: v for k, v in given.items() if not k.startswith(RIDING)}]
    if multi:
        return [{_column_name(k): v for k, v in row.items()} for row in multi[0]]
    if values is None:  # INSERT ... SELECT with no parameters: its binds, as compiled
        compiled = statement.compile().params
        return [{k: v for k, v in compiled.items() if k in table.c}]
    # The bound values read off the statement, as compile().params names them (an anonymous
    # bind by its column): compiling the statement again costs more than the statement's own
    # execution, whose compiled form is cached.
    row = {}
    for key, value in values.items():
        if isinstance(value, BindParameter):
            named = not (value._is_crud or "%(" in value.key)
            name = value.key if named else _column_name(key)
            if name in table.c:
                row[name] = (
                    given[name] if named and given and name in given else value.effective_value
                )
    return [row]


CHANGES = "audit_changes"
MORE = "audit_more"
ROWS = "audit_rows"  # rows of the causes a unit of work has finished with
EMITTED_FROM = "audit_emitted_from"  # the first event in uow.pending the current cause emitted
MAX_ENTRIES = 200  # change entries (statements) kept per unit of work
# The execution option of a statement whose change a unit of work's audit trail captured: the
# request's own note of writes (_note_request_write) leaves it, instead of masking its rows a
# second time for a fallback row the unit of work's row makes needless.
CAPTURED_BY_UNIT_OF_WORK = "brightline_audit_captured"
CAPTURED = {CAPTURED_BY_UNIT_OF_WORK: True}


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
    and after; deleted rows before. Read in the statement's own round trip where it can be (an
    UPDATE, or a DELETE that returns nothing of its own, is made to RETURNING the rows it
    touched)."""
    changes = state.session.info.get(CHANGES)
    if changes is None or not (state.is_insert or state.is_update or state.is_delete):
        return None
    statement = state.statement
    table = getattr(statement, "table", None)
    if not isinstance(table, sa.Table) or table.name in UNAUDITED_TABLES:
        return None
    params = state.parameters
    where = getattr(statement, "whereclause", None)
    if where is None:  # the whole table
        where = sa.true()
    entry: dict[str, Any] = {"table": table.name}
    if isinstance(params, list | tuple) and not state.is_insert:  # an executemany UPDATE/DELETE
        result = state.invoke_statement(execution_options=CAPTURED)
        rows = [dict(p) for p in params]  # the values it was given
        entry.update(op=statement.__visit_name__, count=len(rows))
        entry["after"] = [_mask(r) for r in rows[:MAX_ROWS]]
    elif state.is_insert:
        result = state.invoke_statement(execution_options=CAPTURED)
        rows = _statement_rows(statement, table, params, None)
        entry.update(op="insert", count=len(rows), after=[_mask(r) for r in rows[:MAX_ROWS]])
    elif state.is_update and table.primary_key.columns:  # RETURNING of its own or none
        result, before, after, count = _update_returning(state, table, where)
        entry.update(op="update", count=count, before=before, after=after)
    elif getattr(statement, "_returning", ()) or not table.primary_key.columns:
        result, before, after = _read_around(state, table, where)
        rowcount: int = getattr(result, "rowcount", -1)  # a CursorResult's; -1 when unknown
        entry.update(op=statement.__visit_name__, before=before)
        if state.is_update:
            entry["after"] = after
        entry["count"] = rowcount if rowcount >= 0 else len(before)
    elif state.is_delete:
        result = state.invoke_statement(
            statement=statement.returning(*table.c),  # type: ignore[attr-defined]
            execution_options=CAPTURED,
        )
        deleted = result.mappings().all()
        entry.update(
            op="delete", count=len(deleted), before=[_mask(dict(r)) for r in deleted[:MAX_ROWS]]
        )
    else:
        raise AssertionError("an UPDATE is captured above")
    if not (entry.get("count") or state.is_insert):
        return result
    entries = [entry]
    if state.is_insert and isinstance(params, Mapping):  # rows riding on it: written first
        entries[:0] = _riding_inserts(statement, params)
    for entry in entries:
        if len(changes) < MAX_ENTRIES:
            changes.append(entry)
        else:  # a bulk import: the first statements in full, then how many more and of what
            more = state.session.info.setdefault(MORE, {})
            key = f"{entry['op']} {entry['table']}"
            more[key] = more.get(key, 0) + entry["count"]
    return result


def _riding_inserts(statement: Any, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of audited tables an INSERT carries as data-modifying CTEs (a row that rides on
    another's round trip, such as a new work order's first history row), each bound to
    parameters named riding_<table>_<column> (UnitOfWork.commit's form)."""
    entries = []
    for cte in getattr(statement, "_independent_ctes", ()):
        table = getattr(cte.element, "table", None)
        if not isinstance(table, sa.Table) or table.name in UNAUDITED_TABLES:
            continue
        prefix = f"{RIDING}{table.name}_"
        row = {k.removeprefix(prefix): v for k, v in params.items() if k.startswith(prefix)}
        entries.append({"table": table.name, "op": "insert", "count": 1, "after": [_mask(row)]})
    return entries


# Written for a column that holds a handled event's data as it came (`note_insert(...,
# copied=...)`): records' timeline, the SLA monitor's event log. The row keeps the data, and the
# trail row names the event (its id, type and source); written out again it cost each event a
# masking pass and a JSON writing (about a fifth of records' CPU) and the trail 1-2 KB a row.
AS_IT_CAME = "(the handled event's data, as it came: kept in the row)"


def note_insert(
    session: AsyncSession,
    table: str,
    rows: list[dict[str, Any]],
    *,
    copied: tuple[str, ...] = (),
) -> None:
    """Rows a unit of work will insert in a statement of its own later (UnitOfWork.defer: one
    statement for a whole batch of events), taken as the cause being handled now inserted
    them, exactly as _capture_change takes an INSERT it sees: each event keeps its own row.
    `copied`: the columns that hold the handled event's data as it came, noted as such
    (AS_IT_CAME), not written out again."""
    if copied:
        rows = [{k: AS_IT_CAME if k in copied else v for k, v in row.items()} for row in rows]
    _note(session, table, "insert", rows)


def note_update(
    session: AsyncSession,
    table: str,
    rows: list[dict[str, Any]],
    *,
    before: list[dict[str, Any]] | None = None,
) -> None:
    """Rows a unit of work will update in a statement of its own later (UnitOfWork.defer), each
    as its primary key and the values it is given, taken as the cause being handled now updated
    them: the form _capture_change gives an executemany UPDATE (no row before: the statement
    that reads it runs after every cause of the batch has closed its row). With `before`, the
    whole rows before and after, as a captured UPDATE gives them: for rows the unit of work
    holds locked since it read them, so nothing else changes them before the write."""
    _note(session, table, "update", rows, before)


def _note(
    session: AsyncSession,
    table: str,
    op: str,
    rows: list[dict[str, Any]],
    before: list[dict[str, Any]] | None = None,
) -> None:
    changes = session.info.get(CHANGES)
    if changes is None or not rows:
        return
    if len(changes) < MAX_ENTRIES:
        after = [_mask(r) for r in rows[:MAX_ROWS]]
        entry: dict[str, Any] = {"table": table, "op": op, "count": len(rows), "after": after}
        if before is not None:
            entry["before"] = [_mask(r) for r in before[:MAX_ROWS]]
        changes.append(entry)
    else:
        more = session.info.setdefault(MORE, {})
        more[f"{op} {table}"] = more.get(f"{op} {table}", 0) + len(rows)


def _update_returning(
    state: ORMExecuteState, table: sa.Table, where: sa.ColumnElement[bool]
) -> tuple[Result[Any], list[dict[str, Any]], list[dict[str, Any]], int]:
    """One round trip for an UPDATE and both its images: the rows it matches, read (and locked,
    so a concurrent change is seen as the update sees it) in a sub-select it joins by primary
    key, RETURNING what the statement returns itself (if anything), the row after and the row
    before. The statement's caller gets its own RETURNING columns alone.

        UPDATE t SET ... FROM (SELECT * FROM t WHERE <where> FOR UPDATE) AS audit_before
        WHERE <where> AND t.pk = audit_before.pk RETURNING <its own>, t.*, audit_before.*

    (An UPDATE with a RETURNING of its own was read before and after in statements of their
    own: three round trips, one for every report that joined a storm's incident.)"""
    result = state.invoke_statement(
        statement=_joined(state, table, where), execution_options=CAPTURED
    )
    names, width = table.c.keys(), len(table.c)
    own = len(result.keys()) - 2 * width  # the statement's own RETURNING columns come first
    if own:
        frozen = result.freeze()
        rows = frozen().all()
        result = frozen().columns(*range(own))
    else:
        rows = result.all()
    after = [
        _mask(dict(zip(names, row[own : own + width], strict=True))) for row in rows[:MAX_ROWS]
    ]
    before = [_mask(dict(zip(names, row[own + width :], strict=True))) for row in rows[:MAX_ROWS]]
    return result, before, after, len(rows)


def _joined(state: ORMExecuteState, table: sa.Table, where: sa.ColumnElement[bool]) -> Update:
    """The UPDATE joined to its rows before (see _update_returning). Building it costs more CPU
    than its round trip (a sub-select, a proxy and a label per column, a fresh cache key), so a
    statement executed with parameters (built once, its values given per execution: a hot
    path's) is joined once and the join kept; one with values of its own is joined each time."""
    statement: Update = state.statement  # type: ignore[assignment]
    if not state.parameters:
        return _join_before(statement, table, where)
    kept = _JOINED.get(id(statement))
    if kept is not None:
        _JOINED.move_to_end(id(statement))
        return kept[1]
    joined = _join_before(statement, table, where)
    _JOINED[id(statement)] = (statement, joined)  # holding it keeps its id from being reused
    if len(_JOINED) > JOINED_KEPT:
        _JOINED.popitem(last=False)
    return joined


def _join_before(statement: Update, table: sa.Table, where: sa.ColumnElement[bool]) -> Update:
    old = sa.select(table).where(where).with_for_update(of=table).subquery("audit_before")
    return statement.where(
        *(key == old.c[key.name] for key in table.primary_key.columns)
    ).returning(
        *(column.label(f"audit_after_{column.name}") for column in table.c),
        *(column.label(f"audit_before_{column.name}") for column in old.c),
    )


# Statements built once and their joins, most recently used last (a service has a few dozen).
_JOINED: OrderedDict[int, tuple[Update, Update]] = OrderedDict()
JOINED_KEPT = 256


def _read_around(
    state: ORMExecuteState, table: sa.Table, where: sa.ColumnElement[bool]
) -> tuple[Result[Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """A DELETE that returns rows of its own, or a statement on a table without a primary key:
    the rows it will touch read before it, and, for an UPDATE, again after it."""
    connection = state.session.connection()
    # The statement's own bound values fill any bindparam() of its WHERE clause.
    params = state.parameters if isinstance(state.parameters, Mapping) else {}
    query = sa.select(table).where(where).limit(MAX_ROWS + 1)
    before = [dict(r) for r in connection.execute(query, params).mappings()]
    result = state.invoke_statement(execution_options=CAPTURED)
    after = []
    if state.is_update and (pk := _pk_filter(table, before)) is not None:
        after = [dict(r) for r in connection.execute(sa.select(table).where(pk)).mappings()]
    return (
        result,
        [_mask(r) for r in before[:MAX_ROWS]],
        [_mask(r) for r in after[:MAX_ROWS]],
    )


@sa_event.listens_for(Engine, "before_execute")
def _note_request_write(
    conn: Connection,
    clauseelement: Executable,
    multiparams: object,
    params: Mapping[str, Any],
    execution_options: Mapping[str, Any],
) -> None:
    """Writes a request makes outside a unit of work (a bare connection), for the middleware's
    row of that request."""
    request = CURRENT_REQUEST.get()
    if request is None or request.written or len(request.dml) >= MAX_ROWS:
        return
    if execution_options.get(CAPTURED_BY_UNIT_OF_WORK):
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
    """Handed to a service's sessions (session.info["audit"]). A unit of work asks it for its
    rows just before its last statement (UnitOfWork.commit), and they ride in that statement.

    One row per handled event: a unit of work that applies many events (a consumer's batch)
    names each one as it starts (`uow.causation = event`), which closes the previous event's
    row with the changes made and the events emitted since it started."""

    def __init__(self, service: str, *, wake: Callable[[], None] = lambda: None) -> None:
        self.service = service
        self.wake = wake  # called after a commit that wrote rows: the sealer's

    def begin(self, session: AsyncSession) -> None:
        session.info[CHANGES] = []
        session.info[MORE] = {}
        session.info[ROWS] = []
        session.info[EMITTED_FROM] = 0

    def close(self, uow: UnitOfWork) -> None:
        """What the unit of work did since its cause last changed is that cause's row."""
        session = uow.session
        if (row := self._row(uow)) is not None:
            session.info[ROWS].append(row)
        session.info[CHANGES], session.info[MORE] = [], {}
        session.info[EMITTED_FROM] = len(uow.pending)

    def rows(self, uow: UnitOfWork) -> list[dict[str, Any]]:
        """The rows to insert with the unit of work's last statement (each logged)."""
        self.close(uow)
        rows: list[dict[str, Any]] = uow.session.info[ROWS]
        uow.session.info[ROWS] = []
        for row in rows:
            _log_audited(row)
        return rows

    def changed(self, uow: UnitOfWork) -> bool:
        """Rows were changed since rows() was asked (by the commit's own last statement)."""
        return bool(uow.session.info.get(CHANGES) or uow.session.info.get(MORE))

    def _row(self, uow: UnitOfWork) -> dict[str, Any] | None:
        session: AsyncSession = uow.session
        changes: list[dict[str, Any]] = list(session.info.get(CHANGES) or [])
        if more := session.info.get(MORE):
            changes.append({"op": "more", "rows": more})
        pending = uow.pending[session.info.get(EMITTED_FROM, 0) :]
        emitted = [{"id": e.id, "type": e.type, "subject": e.subject} for e in pending]
        emitted_data = [e.data for e in pending]
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
                trace_id=_trace_id_of(cause),
            )
        elif request is not None:
            if request.method not in STATE_CHANGING and not (changes or emitted):
                return None  # a read that committed nothing
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
            return None
        return audit_row(changes=changes, **row)


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
            runtime.audit.wake()
        except Exception:  # noqa: BLE001 - never turn a done change into an error response
            log.exception("could not write the audit row of %s", request.action)


# ----------------------------------------------------------------------------- verify


class AuditSealer:
    """Chains the rows committed since its last round, off the hot path. Woken by a commit that
    wrote audit rows, it lets `interval` (a second) of commits gather, then, in one
    transaction, takes the sealer's advisory lock (held by another process of the service:
    that round is retried), takes the queued rows off audit_unsealed with their content
    digests, reads the last seal, and inserts each row's seal (audit_seals), in seq order: its
    chain_seq, prev_hash and hash. Chain order is sealing order: a row committed late (a lower
    seq) is sealed in a later round, after rows of higher seq. Idle, it costs nothing but a
    round every `idle` seconds, for rows written without waking it (another process's, or one
    that crashed)."""

    def __init__(self, engine: AsyncEngine, *, interval: float = 1.0, idle: float = 30.0) -> None:
        self.engine = engine
        self.interval = interval
        self.idle = idle
        self._due = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._due.set()

    def start(self) -> None:
        self._due.set()  # rows a previous process left unsealed
        self._task = asyncio.create_task(self._run(), name="audit-sealer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await wait_event(self._due, self.idle)
            await asyncio.sleep(self.interval)  # a second's commits, sealed in one round
            self._due.clear()
            try:
                sealed = await self.seal()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database is away: the next round catches up
                log.warning("audit sealer: round failed", exc_info=True)
                sealed = None
            if sealed is None or sealed == SEAL_BATCH:  # not done: go again
                self._due.set()

    async def seal(self) -> int | None:
        """One round; returns how many rows it sealed, None when another sealer held the lock.
        The rows go in chunks (SEAL_CHUNK), each taken off the queue with its content digest
        (its writer's, queued with it) by one statement and sealed by another: the process's
        requests and events get their turn between chunks, and a chunk's chaining is a few
        hundred short hashes. A queued row that has no row, or a digest that is none, is taken
        off the queue and logged, never sealed: verify counts it unsealed, and the round goes
        on with the others."""
        async with self.engine.begin() as conn:
            if not await conn.scalar(_SEALER_LOCK):
                return None
            sealed, chain_seq, prev = 0, None, GENESIS
            while sealed < SEAL_BATCH:
                # The rows sealed by this round's earlier chunks are off the queue now.
                limit = min(SEAL_CHUNK, SEAL_BATCH - sealed)
                unsealed = (await conn.execute(_UNSEALED, {"limit": limit})).all()
                if not unsealed:
                    break
                if chain_seq is None:  # the chain's last link, read once rows are waiting
                    head = (await conn.execute(_CHAIN_HEAD)).first()
                    chain_seq, prev = (head.chain_seq, head.hash) if head else (0, GENESIS)
                seqs, chain, prevs, hashes = [], [], [], []
                for seq, written, taken in unsealed:
                    if written is None and taken is None:
                        # queued, no row: only a hand with the triggers off does that
                        log.error("audit sealer: seq %s was queued and has no row", seq)
                        continue
                    try:  # a hand's too: one bad digest must not stop every round after it
                        digest = bytes.fromhex(written) if written is not None else taken
                    except ValueError:
                        log.error("audit sealer: seq %s was queued with no digest", seq)
                        continue
                    chain_seq += 1
                    link = chain_hash(prev, digest, V5_LINK if written is not None else V3_LINK)
                    seqs.append(seq)
                    chain.append(chain_seq)
                    prevs.append(prev)
                    hashes.append(link)
                    prev = link
                await conn.execute(
                    _SEAL_SQL, {"seq": seqs, "chain": chain, "prev": prevs, "hash": hashes}
                )
                sealed += len(unsealed)
                if len(unsealed) < SEAL_CHUNK:
                    break
            return sealed


# The first queued rows, taken off the queue, with their digests: the queue's rows are deleted
# in the transaction that inserts their seals, so a round that fails leaves them queued. Both
# halves go by primary key whatever the planner estimates: the statement is prepared once and
# runs on a generic plan (any limit) from its sixth round. Planned as joins, whenever the queue's
# statistics were near the trail's size (a young database, as in the bench; a backlog caught up
# before the queue is analyzed again) that plan scanned the queue and hashed the whole trail for
# every chunk: about a sixth of PostgreSQL's CPU in the bench; for a chunk of 500 after a
# backlog, 24 ms against 9.5 on a 10,000-row trail, 82 against 16 on 100,000.
_TAKEN = (
    sa.delete(audit_unsealed)
    .where(
        audit_unsealed.c.seq
        == sa.any_(
            sa.func.array(
                sa.select(audit_unsealed.c.seq)
                .order_by(audit_unsealed.c.seq)
                .limit(sa.bindparam("limit", type_=sa.Integer))
                .scalar_subquery()
            )
        )
    )
    .returning(audit_unsealed.c.seq, audit_unsealed.c.digest)
    .cte("taken")
)
# Each row's digest as its writer gave it (queued with it), else (a row written before v5 or
# by hand) PostgreSQL's of the row; the row is looked at only to know it is there. Scalar
# subqueries per row, never flattened into a join nor hashed (an EXISTS may be: its generic
# plan read the whole trail into a hash): one primary-key lookup each.
_TRAIL_ROW = audit_trail.c.seq == _TAKEN.c.seq
_UNSEALED = sa.select(
    _TAKEN.c.seq,
    sa.case(
        (
            sa.select(audit_trail.c.seq).where(_TRAIL_ROW).scalar_subquery().is_not(None),
            _TAKEN.c.digest,
        ),
    ).label("written"),
    sa.case(
        (
            _TAKEN.c.digest.is_(None),
            sa.select(CONTENT_DIGEST).where(_TRAIL_ROW).scalar_subquery(),
        ),
    ).label("taken"),
).order_by(_TAKEN.c.seq)
_CHAIN_HEAD = (
    sa.select(audit_seals.c.chain_seq, audit_seals.c.hash)
    .order_by(audit_seals.c.chain_seq.desc())
    .limit(1)
)
_SEAL_SQL = sa.text(
    """
    INSERT INTO audit_seals (seq, chain_seq, prev_hash, hash)
    SELECT * FROM unnest(CAST(:seq AS bigint[]), CAST(:chain AS bigint[]),
                         CAST(:prev AS text[]), CAST(:hash AS text[]))
    """
)
# The rows with no seal: the queue's, and any a tamperer took off it.
_NOT_SEALED = (
    sa.select(sa.func.count())
    .select_from(audit_trail)
    .where(~sa.exists().where(audit_seals.c.seq == audit_trail.c.seq))
)


@dataclass(frozen=True)
class Verification:
    rows: int  # sealed rows whose chain holds (up to the first broken one)
    broken_at: int | None = None  # seq of the first row whose hash or link does not hold
    reason: str | None = None
    unsealed: int = 0  # rows committed but not chained yet (the sealer runs every second)

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify(engine: AsyncEngine, *, batch: int = 1000) -> Verification:
    """Recompute the sealed chain in chain order from its first row; stop at the first row
    that does not hold. Rows not sealed yet are counted, not checked."""
    prev, count, after = GENESIS, 0, 0
    async with engine.connect() as conn:
        unsealed = await conn.scalar(_NOT_SEALED)
        while True:
            rows = (
                (
                    await conn.execute(
                        sa.select(
                            audit_trail,
                            *(
                                sa.cast(audit_trail.c[k], sa.Text).label(f"{k}_text")
                                for k in JSON_TEXT
                            ),
                            audit_seals.c.chain_seq,
                            audit_seals.c.prev_hash,
                            audit_seals.c.hash,
                            CONTENT_DIGEST,
                        )
                        .join(audit_seals, audit_seals.c.seq == audit_trail.c.seq)
                        .where(audit_seals.c.chain_seq > after)
                        .order_by(audit_seals.c.chain_seq)
                        .limit(batch)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                return Verification(rows=count, unsealed=unsealed or 0)
            for row in rows:
                if row["prev_hash"] != prev or row["chain_seq"] != count + 1:
                    return Verification(
                        count, row["seq"], "previous row missing or changed", unsealed or 0
                    )
                if not _holds(prev, row):
                    return Verification(count, row["seq"], "row content changed", unsealed or 0)
                prev, count, after = row["hash"], count + 1, row["chain_seq"]


def _holds(prev: str, row: Mapping[Any, Any]) -> bool:
    """Whether a sealed row's hash is its link from `prev`, its digest taken again from its
    content as it lies: the writer's way (v5, its JSON as the text it holds), else PostgreSQL's
    (v3, the row sealed with it), else, for a row sealed before v3, its content read here."""
    written = content_digest({**row, **{k: row[f"{k}_text"] for k in JSON_TEXT}})
    return (
        row["hash"]
        in (
            chain_hash(prev, bytes.fromhex(written), V5_LINK),
            chain_hash(prev, row["content_digest"], V3_LINK),
        )
        or row_hash(prev, row) == row["hash"]
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m brightline.messaging.audit verify <database URL>`: exit 0 if intact."""
    parser = argparse.ArgumentParser(prog="python -m brightline.messaging.audit")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="recompute the hash chain of a service's audit trail")
    check.add_argument("database_url", help="the service's database (SQLAlchemy asyncpg URL)")
    args = parser.parse_args(argv)

    async def run() -> Verification:
        from brightline.platform.db import create_engine

        engine = create_engine(args.database_url, pool_size=2)
        try:
            return await verify(engine)
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    pending = f", {result.unsealed} not sealed yet"
    if result.intact:
        print(f"audit trail intact: {result.rows} rows{pending}")
        return 0
    print(
        f"audit trail BROKEN at seq {result.broken_at}: {result.reason} "
        f"({result.rows} rows ok{pending})"
    )
    return 1


# ----------------------------------------------------------------------------- migration


def create_audit_table_v1() -> None:
    """Called from each service's lifecycle migration. Frozen: a change is a new function."""
    from alembic import op

    frozen = sa.MetaData()
    table = sa.Table(
        "audit_trail",
        frozen,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
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
    sa.Index("ix_audit_trail_ticket_id", table.c.ticket_id, table.c.seq)
    sa.Index("ix_audit_trail_subject", table.c.subject, table.c.seq)
    sa.Index("ix_audit_trail_at", table.c.at)
    frozen.create_all(op.get_bind(), tables=[table])
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


def seal_off_the_commit_path_v2() -> None:
    """Rows are inserted unsealed and chained by the sealer (chain_seq, prev_hash, hash set
    once). Rows of v1 were chained in seq order under a lock: they keep their hashes and get
    that order as chain_seq. The trigger now refuses every UPDATE but the sealing one, every
    DELETE, and an INSERT of a row that claims to be sealed. Frozen: a change is a new function."""
    from alembic import op

    op.execute("DROP TRIGGER audit_trail_append_only ON audit_trail")
    op.execute("ALTER TABLE audit_trail ADD COLUMN chain_seq bigint")
    op.execute(
        "UPDATE audit_trail AS a SET chain_seq = o.n FROM "
        "(SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM audit_trail) AS o "
        "WHERE a.seq = o.seq"
    )
    op.execute(
        "ALTER TABLE audit_trail ALTER COLUMN prev_hash DROP NOT NULL, "
        "ALTER COLUMN hash DROP NOT NULL, "
        "ADD CONSTRAINT audit_trail_chain_seq_key UNIQUE (chain_seq), "
        "ADD CONSTRAINT audit_trail_sealed_whole CHECK "
        "((chain_seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL))"
    )
    _sealed_in_place_v2()


def _sealed_in_place_v2() -> None:
    """v2's index of unsealed rows and its trigger (also v4's downgrade puts them back)."""
    from alembic import op

    op.execute("CREATE INDEX ix_audit_trail_unsealed ON audit_trail (seq) WHERE hash IS NULL")
    same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in ("seq", "at", *CONTENT_V2))
    op.execute(
        f"""
        CREATE FUNCTION audit_trail_sealed_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' AND NEW.hash IS NULL AND NEW.prev_hash IS NULL
                    AND NEW.chain_seq IS NULL THEN
                RETURN NEW;
            END IF;
            IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL AND {same} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit_trail is append-only (% refused)', TG_OP;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_trail_sealed_once BEFORE INSERT OR UPDATE OR DELETE ON audit_trail "
        "FOR EACH ROW EXECUTE FUNCTION audit_trail_sealed_once()"
    )


def unseal_v2() -> None:
    """Back to v1's trigger. The hash columns stay nullable: a row left unsealed stays so, and
    v1's verify names it."""
    from alembic import op

    op.execute("DROP TRIGGER audit_trail_sealed_once ON audit_trail")
    op.execute("DROP FUNCTION audit_trail_sealed_once()")
    op.execute("DROP INDEX ix_audit_trail_unsealed")
    op.execute(
        "ALTER TABLE audit_trail DROP CONSTRAINT audit_trail_sealed_whole, DROP COLUMN chain_seq"
    )
    op.execute(
        "CREATE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON audit_trail "
        "FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only()"
    )


# The content columns as v2's trigger names them (CONTENT may grow; v2 stays as it was).
CONTENT_V2 = ("kind", "actor", "action", "subject", "ticket_id", "changes", "detail", "trace_id")


def seal_apart_v4() -> None:
    """Seals move to audit_seals (inserted, never updated), and a trigger queues each inserted
    row in audit_unsealed, one call per statement; audit rows are never updated again: the
    trigger refuses every UPDATE and DELETE of a row or a seal, and TRUNCATE. Rows sealed
    before keep their chain: their seals are copied across. Frozen: a change is a new function.
    (No foreign key from a seal to its row: rows are never deleted, and verify finds a seal
    whose row does not hold.)"""
    from alembic import op

    op.execute(
        "CREATE TABLE audit_seals (seq bigint PRIMARY KEY, "
        "chain_seq bigint NOT NULL CONSTRAINT audit_seals_chain_seq_key UNIQUE, "
        "prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL)"
    )
    op.execute(
        "INSERT INTO audit_seals (seq, chain_seq, prev_hash, hash) "
        "SELECT seq, chain_seq, prev_hash, hash FROM audit_trail WHERE hash IS NOT NULL"
    )
    op.execute("CREATE TABLE audit_unsealed (seq bigint PRIMARY KEY)")
    op.execute("INSERT INTO audit_unsealed (seq) SELECT seq FROM audit_trail WHERE hash IS NULL")
    op.execute("DROP TRIGGER audit_trail_sealed_once ON audit_trail")
    op.execute("DROP FUNCTION audit_trail_sealed_once()")
    op.execute("DROP INDEX ix_audit_trail_unsealed")
    op.execute(
        "ALTER TABLE audit_trail DROP CONSTRAINT audit_trail_sealed_whole, "
        "DROP COLUMN chain_seq, DROP COLUMN prev_hash, DROP COLUMN hash"
    )
    op.execute(
        """
        CREATE FUNCTION audit_trail_queue_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO audit_unsealed (seq) SELECT seq FROM inserted;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_trail_queue_unsealed AFTER INSERT ON audit_trail "
        "REFERENCING NEW TABLE AS inserted "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_queue_unsealed()"
    )
    # v1's function: it refuses whatever fires it.
    for table in ("audit_trail", "audit_seals"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only()"
        )
    op.execute(
        "CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_append_only()"
    )


def unseal_apart_v4() -> None:
    """Back to v2's seals in the rows (a queued row goes back unsealed)."""
    from alembic import op

    for table in ("audit_trail", "audit_seals"):
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP TRIGGER audit_trail_queue_unsealed ON audit_trail")
    op.execute("DROP FUNCTION audit_trail_queue_unsealed()")
    op.execute(
        "ALTER TABLE audit_trail ADD COLUMN chain_seq bigint "
        "CONSTRAINT audit_trail_chain_seq_key UNIQUE, "
        "ADD COLUMN prev_hash varchar(64), ADD COLUMN hash varchar(64)"
    )
    op.execute(
        "UPDATE audit_trail AS a SET chain_seq = s.chain_seq, prev_hash = s.prev_hash, "
        "hash = s.hash FROM audit_seals AS s WHERE a.seq = s.seq"
    )
    op.execute(
        "ALTER TABLE audit_trail ADD CONSTRAINT audit_trail_sealed_whole CHECK "
        "((chain_seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL))"
    )
    op.execute("DROP TABLE audit_seals, audit_unsealed")
    _sealed_in_place_v2()


def digest_by_the_writer_v5() -> None:
    """Each row comes with its writer's digest of its content (content_digest), queued with it
    for the sealer, which no longer reads the row to hash it; the JSON columns become `json`,
    kept as the text the writer hashed (a JSONB column keeps a value, not its text). Rows
    written before keep their JSONB text form (the same value) and no digest: the sealer takes
    PostgreSQL's for them, as v4 did. The ALTER rewrites the trail once (no trigger fires on a
    rewrite). Frozen: a change is a new function."""
    from alembic import op

    op.execute(
        "ALTER TABLE audit_trail ALTER COLUMN changes TYPE json USING changes::json, "
        "ALTER COLUMN detail TYPE json USING detail::json, ADD COLUMN digest varchar(64)"
    )
    op.execute("ALTER TABLE audit_unsealed ADD COLUMN digest varchar(64)")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION audit_trail_queue_unsealed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO audit_unsealed (seq, digest) SELECT seq, digest FROM inserted;
            RETURN NULL;
        END $$
        """
    )


def undigest_by_the_writer_v5() -> None:
    """Back to v4: JSONB columns, no writer's digest (a queued row is sealed with PostgreSQL's).
    Rows sealed by v5 hold links v4's verify does not know."""
    from alembic import op

    op.execute(
        """
        CREATE OR REPLACE FUNCTION audit_trail_queue_unsealed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO audit_unsealed (seq) SELECT seq FROM inserted;
            RETURN NULL;
        END $$
        """
    )
    op.execute("ALTER TABLE audit_unsealed DROP COLUMN digest")
    op.execute(
        "ALTER TABLE audit_trail DROP COLUMN digest, "
        "ALTER COLUMN changes TYPE jsonb USING changes::jsonb, "
        "ALTER COLUMN detail TYPE jsonb USING detail::jsonb"
    )


def at_by_block_range_v6() -> None:
    """The trail's index by time becomes a BRIN index: the trail is append-only and written in
    time order, and a B-tree entry per row cost every audit row an index insert (seven a repair
    ticket across the services) for an index read only by an auditor's time window. Frozen: a
    change is a new function."""
    from alembic import op

    op.execute("DROP INDEX ix_audit_trail_at")
    op.execute("CREATE INDEX ix_audit_trail_at ON audit_trail USING brin (at)")


def at_by_btree_v6() -> None:
    """Back to v5: a B-tree entry per row."""
    from alembic import op

    op.execute("DROP INDEX ix_audit_trail_at")
    op.execute("CREATE INDEX ix_audit_trail_at ON audit_trail (at)")


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
    # Its place in the chain and its hash, set by the sealer about a second after the commit;
    # null until then.
    chain_seq: int | None
    hash: str | None


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
        query = (
            sa.select(audit_trail, audit_seals.c.chain_seq, audit_seals.c.hash)
            .outerjoin(audit_seals, audit_seals.c.seq == audit_trail.c.seq)
            .order_by(audit_trail.c.seq)
            .limit(limit)
        )
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
                    sa.cast(audit_trail.c.detail, JSONB)["events"].contains([{"type": event_type}]),
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
