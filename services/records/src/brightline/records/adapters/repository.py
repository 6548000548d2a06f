"""The read model in PostgreSQL: folding projections in, searching, one timeline, the audit."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.confidentiality import Confidentiality, Viewer
from brightline.confidentiality.rules import ReaderRule
from brightline.contracts import jsontext
from brightline.contracts.events.casework import CaseType
from brightline.messaging.unit_of_work import Riding
from brightline.records.adapters.orm import confidential_reads, tickets, timeline
from brightline.records.domain.model import (
    Projection,
    TicketChange,
    TimelineEntry,
    like_pattern,
    query_grams,
    selective_grams,
    timeline_order,
)

# The ticket types the confidentiality rules speak about (casework's cases). Repairs,
# consultations and service requests are routine tickets every staff role may find.
CASE_TYPES: tuple[str, ...] = CaseType.__args__  # type: ignore[attr-defined]

# --- folding a projection in ----------------------------------------------------------------------

RECORDING_FIELDS = (
    "ticket_no",
    "recorded_at",
    "first_ask_owner",
    "call_id",
    "customer_id",
    "caller_name",
    "phone",
    "phone_norm",
    "address",
    "area_code",
    "anonymous",
    "reported_party",
    "reported_party_norm",
    "linked_ticket_id",
)
LATEST_FIELDS = ("status", "owner", "unit", "department")


def _value_column(field: str) -> str:
    return "unit_id" if field == "unit" else "department_id" if field == "department" else field


def _latest(field: str) -> str:
    """SET clauses for a latest-wins field: the incoming value replaces the stored one when its
    (time, event id) is later. Commutative, so any replay order ends the same."""
    value = _value_column(field)
    newer = (
        f"EXCLUDED.{value} IS NOT NULL AND (t.{field}_at IS NULL OR "
        f"(EXCLUDED.{field}_at, EXCLUDED.{field}_event) > (t.{field}_at, t.{field}_event))"
    )
    return ",\n".join(
        f"{col} = CASE WHEN {newer} THEN EXCLUDED.{col} ELSE t.{col} END"
        for col in (value, f"{field}_at", f"{field}_event")
    )


_COLUMNS = (
    ["ticket_id", *RECORDING_FIELDS, "ticket_type"]
    + [c for f in LATEST_FIELDS for c in (_value_column(f), f"{f}_at", f"{f}_event")]
    + ["has_breached"]
)
_RECORDED = "EXCLUDED.recorded_at IS NOT NULL"

# A batch of events (a consumer's fetch) folds in as three data-modifying CTEs of the commit's
# last statement (UnitOfWork.ride: the inbox claim and the audit rows ride there too), in its
# round trip: the timeline entries, the ticket rows and the incident links each as one JSON
# array parameter, read by jsonb_populate_recordset. Built once, compiled once, three parameters
# whatever the batch holds; the three write other tables than each other and than the rest of
# the statement, so the parts never see or race each other. The gram arrays come from the same
# SQL function the migration and a search use.
_ENTRY_COLUMNS = ", ".join(timeline.c.keys())
_ONE: sa.ColumnClause[int] = sa.column("one")
FOLD: tuple[sa.CTE, ...] = (
    sa.text(
        f"""
INSERT INTO tickets AS t ({", ".join(_COLUMNS)}, name_grams, address_grams)
SELECT {", ".join(_COLUMNS)}, records_grams(caller_name), records_grams(address)
FROM jsonb_populate_recordset(NULL::tickets, CAST(CAST(:ticket_rows AS text) AS jsonb))
ON CONFLICT (ticket_id) DO UPDATE SET
{",".join(f"{chr(10)}{c} = CASE WHEN {_RECORDED} THEN EXCLUDED.{c} ELSE t.{c} END" for c in (*RECORDING_FIELDS, "name_grams", "address_grams"))},
ticket_type = CASE WHEN {_RECORDED} THEN EXCLUDED.ticket_type
                   ELSE COALESCE(t.ticket_type, EXCLUDED.ticket_type) END,
{",".join(chr(10) + _latest(f) for f in LATEST_FIELDS)},
has_breached = t.has_breached OR EXCLUDED.has_breached
RETURNING 1 AS one
"""
    )
    .columns(_ONE)
    .cte("records_tickets"),
    sa.text(
        """
INSERT INTO ticket_incidents (ticket_id, incident_id)
SELECT ticket_id, incident_id
FROM jsonb_populate_recordset(NULL::ticket_incidents, CAST(CAST(:links AS text) AS jsonb))
ON CONFLICT DO NOTHING
RETURNING 1 AS one
"""
    )
    .columns(_ONE)
    .cte("records_links"),
    sa.text(
        f"""
INSERT INTO timeline ({_ENTRY_COLUMNS})
SELECT {_ENTRY_COLUMNS}
FROM jsonb_populate_recordset(NULL::timeline, CAST(CAST(:entries AS text) AS jsonb))
ON CONFLICT DO NOTHING
RETURNING 1 AS one
"""
    )
    .columns(_ONE)
    .cte("records_timeline"),
)


def change_row(change: TicketChange) -> dict[str, Any]:
    """The tickets row a change inserts, or offers to the stored one (ON CONFLICT)."""
    r = change.recording
    row: dict[str, Any] = {"ticket_id": change.ticket_id}
    for name in RECORDING_FIELDS:
        row[name] = getattr(r, name) if r else None
    if r is None:
        row["anonymous"] = False
    row["ticket_type"] = r.ticket_type if r else change.ticket_type
    values = {
        "status": change.status,
        "owner": change.owner,
        "unit": change.unit_id,
        "department": change.department_id,
    }
    for field, value in values.items():
        row[_value_column(field)] = value
        row[f"{field}_at"] = change.stamp.at if value is not None else None
        row[f"{field}_event"] = change.stamp.event_id if value is not None else None
    row["has_breached"] = change.breached
    return row


def merge_row(row: dict[str, Any], later: dict[str, Any]) -> None:
    """Fold `later` (a change of the same ticket, later in the batch) into `row` as the upsert
    would fold them one after the other: an upsert may touch a row only once per statement.
    A recording replaces the recording fields and the type; a type hint fills only an empty
    type; each latest-wins field keeps the later (time, event id); breached only turns on."""
    if later["recorded_at"] is not None:
        for name in (*RECORDING_FIELDS, "ticket_type"):
            row[name] = later[name]
    elif row["ticket_type"] is None:
        row["ticket_type"] = later["ticket_type"]
    for field in LATEST_FIELDS:
        value, at, event = _value_column(field), f"{field}_at", f"{field}_event"
        if later[value] is not None and (
            row[at] is None or (later[at], later[event]) > (row[at], row[event])
        ):
            row[value], row[at], row[event] = later[value], later[at], later[event]
    row["has_breached"] = row["has_breached"] or later["has_breached"]


def _json(rows: list[dict[str, Any]]) -> str:
    # Times as ISO 8601 with their offset and microseconds: PostgreSQL reads back the same instant.
    return jsontext.dumps_rows(rows).decode()


def entry_row(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "event_type": entry.event_type,
        "kind": entry.kind,
        "occurred_at": entry.occurred_at,
        "aggregate_id": entry.aggregate_id,
        "source": entry.source,
        "ticket_id": entry.ticket_id,
        "call_id": entry.call_id,
        "incident_id": entry.incident_id,
        "data": entry.data,
    }


@dataclass
class Fold:
    """The projections of a batch of events, gathered for the commit's statement (FOLD)."""

    entries: dict[str, dict[str, Any]] = dataclass_field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = dataclass_field(default_factory=dict)
    links: dict[tuple[str, str], None] = dataclass_field(
        default_factory=dict
    )  # ordered, no repeats

    def add(self, projection: Projection) -> list[dict[str, Any]]:
        """Gather one event's projection; returns its timeline rows (the audit trail's)."""
        assert projection.entries or not (projection.changes or projection.incident_links), (
            "every change has an entry"
        )
        rows = [entry_row(e) for e in projection.entries]
        for row in rows:
            self.entries.setdefault(row["entry_id"], row)
        for change in projection.changes:
            new = change_row(change)
            if (gathered := self.tickets.get(change.ticket_id)) is None:
                self.tickets[change.ticket_id] = new
            else:
                merge_row(gathered, new)
        for link in projection.incident_links:
            self.links[link] = None
        return rows

    def parameters(self) -> dict[str, str] | None:
        if not self.entries:
            return None
        return {
            "ticket_rows": _json(list(self.tickets.values())),
            "links": _json([{"ticket_id": t, "incident_id": i} for t, i in self.links]),
            "entries": _json(list(self.entries.values())),
        }


def riding(fold: Fold) -> Riding | None:
    """The batch's writes, to ride on the commit's last statement (UnitOfWork.ride). The audit
    trail has each event's rows already (audit.note_insert as it was gathered)."""
    if (parameters := fold.parameters()) is None:
        return None
    return FOLD, parameters


# --- reading --------------------------------------------------------------------------------------

VIEW_COLUMNS = (
    "ticket_id",
    "ticket_no",
    "ticket_type",
    "recorded_at",
    "first_ask_owner",
    "owner",
    "status",
    "unit_id",
    "department_id",
    "call_id",
    "customer_id",
    "caller_name",
    "phone",
    "address",
    "area_code",
    "anonymous",
    "reported_party",
    "linked_ticket_id",
    "has_breached",
)


@dataclass(frozen=True)
class TicketView:
    ticket_id: str
    ticket_no: str | None
    ticket_type: str | None
    recorded_at: datetime | None
    first_ask_owner: str | None
    owner: str | None
    status: str | None
    unit_id: str | None
    department_id: str | None
    call_id: str | None
    customer_id: str | None
    caller_name: str | None
    phone: str | None
    address: str | None
    area_code: str | None
    anonymous: bool
    reported_party: str | None
    linked_ticket_id: str | None
    has_breached: bool

    @property
    def case_type(self) -> str:  # what the confidentiality rules look at
        return self.ticket_type or ""


@dataclass(frozen=True)
class SearchQuery:
    ticket_no: str | None = None
    phone: str | None = None  # already normalised
    name: str | None = None
    address: str | None = None
    ticket_types: tuple[str, ...] = ()
    status: str | None = None
    unit_id: str | None = None
    owner: str | None = None
    recorded_from: date | None = None
    recorded_to: date | None = None  # inclusive, business-timezone days
    has_breached: bool | None = None


@dataclass(frozen=True)
class Cursor:
    recorded_at: datetime
    ticket_id: str

    def encode(self) -> str:
        raw = json.dumps([self.recorded_at.isoformat(), self.ticket_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError on anything that is not a cursor this service wrote."""
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        at, ticket_id = json.loads(raw)
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not isinstance(ticket_id, str):
            raise ValueError("not a cursor")
        try:  # year 1 east of UTC, or 9999 west of it, is no time PostgreSQL can be sent
            return cls(parsed.astimezone(UTC), ticket_id)
        except OverflowError as error:
            raise ValueError("not a cursor") from error


def visibility(rules: Confidentiality, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    """rules.may_find as SQL over the tickets table, so a page is full and the keyset exact.
    Mirrors brightline.confidentiality.Confidentiality.may_find type by type."""
    params: dict[str, Any] = {
        "v_case_types": list(CASE_TYPES),
        "v_dept": viewer.department_id,
        "v_subject": viewer.subject,
        "v_identities": list(viewer.identities),
    }
    clauses = ["(ticket_type IS NULL OR ticket_type <> ALL(:v_case_types))"]
    for n, case_type in enumerate(CASE_TYPES):
        rule = rules.rule_for(case_type)
        conditions: list[str] = []
        if rule.found_by is None:
            if viewer.roles & {"supervisor", "agent", "integration"}:
                conditions.append("TRUE")
            elif "caseworker" in viewer.roles and viewer.department_id:
                conditions.append("department_id = :v_dept")
        else:
            conditions += [c for c in (_reader_sql(r, viewer) for r in rule.found_by) if c]
        if not conditions:
            continue
        allowed = " OR ".join(f"({c})" for c in conditions)
        if rule.hidden_from_reported_party and viewer.identities:
            allowed = (
                f"({allowed}) AND (reported_party_norm IS NULL "
                f"OR reported_party_norm <> ALL(:v_identities))"
            )
        params[f"v_type_{n}"] = case_type
        clauses.append(f"(ticket_type = :v_type_{n} AND ({allowed}))")
    return "(" + " OR ".join(clauses) + ")", params


def _reader_sql(reader: ReaderRule, viewer: Viewer) -> str | None:
    """ReaderRule.admits as SQL (None: never this viewer)."""
    if reader.role not in viewer.roles:
        return None
    parts = ["TRUE"]
    if reader.department == "handling":
        parts.append("department_id = :v_dept" if viewer.department_id else "FALSE")
    if reader.first_ask_owner:
        parts.append("first_ask_owner = :v_subject")
    return " AND ".join(parts)


def identity_visibility(rules: Confidentiality, viewer: Viewer) -> tuple[str, dict[str, Any]]:
    """Where records shows this viewer the caller's name, phone and address (TicketRead's
    `identity_hidden` false) as SQL over the tickets table, with visibility()'s parameters.
    A search by phone, name or address matches only these tickets: a match on a ticket whose
    caller is withheld would tell the searcher who made that complaint or report. Mirrors
    `not anonymous and (not a case or rules.may_see_identity)`."""
    params: dict[str, Any] = {}
    clauses = ["(ticket_type IS NULL OR ticket_type <> ALL(:v_case_types))"]
    for n, case_type in enumerate(CASE_TYPES):
        rule = rules.rule_for(case_type)
        if not rule.identity_shown:
            continue
        # may_see_case: caseworkers see their own department's cases only
        if viewer.roles & {"supervisor", "agent", "integration"}:
            sees_case = "TRUE"
        elif "caseworker" in viewer.roles and viewer.department_id:
            sees_case = "department_id = :v_dept"
        else:
            continue
        readers = [c for c in (_reader_sql(r, viewer) for r in rule.contact_readers) if c]
        if not readers:
            continue
        allowed = f"({sees_case}) AND (" + " OR ".join(f"({c})" for c in readers) + ")"
        if rule.hidden_from_reported_party and viewer.identities:
            allowed += (
                " AND (reported_party_norm IS NULL OR reported_party_norm <> ALL(:v_identities))"
            )
        params[f"i_type_{n}"] = case_type
        clauses.append(f"(ticket_type = :i_type_{n} AND {allowed})")
    return "(NOT anonymous AND (" + " OR ".join(clauses) + "))", params


def _view(row) -> TicketView:
    return TicketView(**{c: getattr(row, c) for c in VIEW_COLUMNS})


class TicketRepository:
    def __init__(self, session: AsyncSession, tz: ZoneInfo) -> None:
        self.session = session
        self.tz = tz

    async def get(self, ticket_id: str) -> TicketView | None:
        row = (
            await self.session.execute(
                sa.text(f"SELECT {', '.join(VIEW_COLUMNS)} FROM tickets WHERE ticket_id = :id"),
                {"id": ticket_id},
            )
        ).first()
        return _view(row) if row else None

    async def _frequencies(self, column: str, grams: list[str]) -> dict[str, float]:
        """The share of rows holding each gram, as ANALYZE last counted (most common elements)."""
        rows = await self.session.execute(
            sa.text(
                "SELECT e, f FROM pg_stats, "
                "unnest(most_common_elems::text::text[], most_common_elem_freqs) AS u(e, f) "
                "WHERE schemaname = current_schema() AND tablename = 'tickets' "
                "AND attname = :column AND e = ANY(:grams)"
            ),
            {"column": column, "grams": grams},
        )
        return {e: f for e, f in rows.all()}

    async def search(
        self,
        query: SearchQuery,
        *,
        rules: Confidentiality,
        viewer: Viewer,
        limit: int,
        after: Cursor | None = None,
    ) -> tuple[list[TicketView], Cursor | None]:
        where = ["recorded_at IS NOT NULL"]
        params: dict[str, Any] = {"limit": limit + 1}
        if query.ticket_no:
            where.append("ticket_no = :ticket_no")
            params["ticket_no"] = query.ticket_no
        if query.phone:
            where.append("phone_norm = :phone")
            params["phone"] = query.phone
        for field, column in (("name", "caller_name"), ("address", "address")):
            value = getattr(query, field)
            if value and value.strip():
                grams = "name_grams" if field == "name" else "address_grams"
                where.append(
                    f"{grams} @> CAST(:{field}_grams AS text[]) "
                    f"AND records_norm({column}) LIKE :{field}_like"
                )
                wanted = query_grams(value)
                params[f"{field}_grams"] = selective_grams(
                    wanted, await self._frequencies(grams, wanted)
                )
                params[f"{field}_like"] = like_pattern(value)
        if query.ticket_types:
            where.append("ticket_type = ANY(:types)")
            params["types"] = list(query.ticket_types)
        for name in ("status", "unit_id", "owner"):
            if getattr(query, name):
                where.append(f"{name} = :{name}")
                params[name] = getattr(query, name)
        if query.recorded_from:
            where.append("recorded_at >= :from_at")
            params["from_at"] = datetime.combine(query.recorded_from, time(), self.tz)
        if query.recorded_to:
            where.append("recorded_at < :to_at")
            params["to_at"] = datetime.combine(
                query.recorded_to + timedelta(days=1), time(), self.tz
            )
        if query.has_breached is not None:
            where.append("has_breached = :breached")
            params["breached"] = query.has_breached
        visible, visible_params = visibility(rules, viewer)
        where.append(visible)
        params.update(visible_params)
        if query.phone or query.name or query.address:
            shown, shown_params = identity_visibility(rules, viewer)
            where.append(shown)
            params.update(shown_params)
        if after:
            where.append("(recorded_at, ticket_id) < (:after_at, :after_id)")
            params["after_at"], params["after_id"] = after.recorded_at, after.ticket_id
        sql = (
            f"SELECT {', '.join(VIEW_COLUMNS)} FROM tickets WHERE {' AND '.join(where)} "
            "ORDER BY recorded_at DESC, ticket_id DESC LIMIT :limit"
        )
        # A prepared statement's generic plan cannot see how rare an address's grams or a phone
        # are; it may then walk the newest-first index through millions of rows. Plan each time.
        await self.session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
        rows = [_view(r) for r in (await self.session.execute(sa.text(sql), params)).all()]
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            assert last.recorded_at is not None, "the search reads recorded tickets only"
            return rows, Cursor(last.recorded_at, last.ticket_id)
        return rows, None

    async def timeline(self, ticket: TicketView) -> list[Any]:
        """Everything that happened to the ticket: its own entries, its call's, its incidents',
        and entries of the same aggregates that name no ticket (an escalation's resolution)."""
        # Each branch an index lookup (= ANY of an array, not a semi-join a planner may turn into
        # a scan of the whole timeline).
        sql = """
        WITH own AS (SELECT * FROM timeline WHERE ticket_id = :id)
        SELECT * FROM own
        UNION
        SELECT * FROM timeline WHERE call_id = CAST(:call_id AS text)
        UNION
        SELECT * FROM timeline
         WHERE incident_id = ANY(ARRAY(
               SELECT incident_id FROM ticket_incidents WHERE ticket_id = :id))
        UNION
        SELECT * FROM timeline
         WHERE aggregate_id = ANY(ARRAY(SELECT DISTINCT aggregate_id FROM own))
           AND ticket_id IS NULL
        """
        await self.session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
        result = await self.session.execute(
            sa.text(sql), {"id": ticket.ticket_id, "call_id": ticket.call_id}
        )
        rows = list(result.mappings().all())
        return sorted(
            rows, key=lambda e: timeline_order(e["occurred_at"], e["kind"], e["entry_id"])
        )

    async def audit(
        self, tickets: list[TicketView], viewer: Viewer, *, action: str, granted: bool, at: datetime
    ) -> None:
        if not tickets:
            return
        await self.session.execute(
            confidential_reads.insert(),
            [
                {
                    "ticket_id": t.ticket_id,
                    "reader": viewer.subject,
                    "roles": sorted(viewer.roles),
                    "department_id": viewer.department_id,
                    "action": action,
                    "granted": granted,
                    "at": at,
                }
                for t in tickets
            ],
        )

    async def confidential_reads(
        self, *, ticket_id: str | None, reader: str | None, limit: int
    ) -> list[Any]:
        # With the ticket's 工单号: what an auditor looks a read up by.
        query = (
            sa.select(confidential_reads, tickets.c.ticket_no)
            .outerjoin(tickets, tickets.c.ticket_id == confidential_reads.c.ticket_id)
            .order_by(confidential_reads.c.id.desc())
            .limit(limit)
        )
        if ticket_id:
            query = query.where(confidential_reads.c.ticket_id == ticket_id)
        if reader:
            query = query.where(confidential_reads.c.reader == reader)
        return list((await self.session.execute(query)).mappings().all())
