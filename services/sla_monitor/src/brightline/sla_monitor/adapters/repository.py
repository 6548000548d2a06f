"""Deadlines in Postgres (and in memory, for replay): one store interface, two homes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.contracts import Event, jsontext
from brightline.messaging import UnitOfWork, direct
from brightline.messaging.audit import note_insert
from brightline.messaging.unit_of_work import Riding
from brightline.platform.db import rows_affected
from brightline.sla_monitor import kpis
from brightline.sla_monitor.adapters.orm import (
    callback_rates,
    calls,
    deadline_kpi_counts,
    deadline_kpi_deltas,
    deadlines,
    event_log,
    planned_outage_notices,
)
from brightline.sla_monitor.domain.deadlines import Deadline, DeadlineState, Pause
from brightline.sla_monitor.domain.monitor import LateInput, Tracked
from brightline.sla_monitor.domain.policy import EscalationLevel, Limit
from brightline.sla_monitor.metrics import LATE_INPUTS

FINAL_STATES = ("met", "cancelled", "errored")
# Set when a deadline is opened and never changed after: what it is about and the promise as made.
FIXED_COLUMNS = frozenset(
    {
        "id",
        "limit_key",
        "policy",
        "subject_type",
        "subject_id",
        "ticket_id",
        "opened_at",
        "limit_def",
        "unit_id",
        "ticket_type",
    }
)


# ---------------------------------------------------------------- (de)serialising


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def limit_to_json(limit: Limit) -> dict:
    return {
        "key": limit.key,
        "amount": limit.amount,
        "unit": str(limit.unit),
        "source": limit.source,
        "warn_at": limit.warn_at,
        "pausable": limit.pausable,
        "escalation": [
            {"at": level.at, "notify": list(level.notify)} for level in limit.escalation
        ],
    }


def limit_from_json(raw: dict) -> Limit:
    return Limit(
        key=raw["key"],
        amount=raw["amount"],
        unit=raw["unit"],
        source=raw["source"],
        warn_at=raw["warn_at"],
        pausable=raw["pausable"],
        escalation=tuple(
            EscalationLevel(level["at"], tuple(level["notify"])) for level in raw["escalation"]
        ),
    )


def to_row(tracked: Tracked) -> dict:
    d = tracked.deadline
    return {
        "id": tracked.deadline_id,
        "limit_key": tracked.limit.key,
        "policy": tracked.policy,
        "subject_type": tracked.subject_type,
        "subject_id": tracked.subject_id,
        "ticket_id": tracked.ticket_id,
        "state": tracked.state,
        "opened_at": tracked.opened_at,
        "warn_at": d.warn_at if d else None,
        "due_at": d.due_at if d else None,
        "limit_def": limit_to_json(tracked.limit),
        "unit_id": tracked.unit_id,
        "ticket_type": tracked.ticket_type,
        "pauses": [[p.started_at.isoformat(), _iso(p.ended_at)] for p in d.pauses] if d else [],
        "paused_since": d.paused_since if d else None,
        "warned_at": d.warned_at if d else None,
        "breached_at": d.breached_at if d else None,
        "closed_at": d.closed_at if d else None,
        "escalations_sent": list(d.escalations_sent) if d else [],
        "met_on_time": tracked.met_on_time,
        "cancel_reason": tracked.cancel_reason,
        "error": tracked.error,
        "next_fire_at": tracked.next_fire_at,
        "provisional": tracked.provisional,
        "breach_retracted_at": d.breach_retracted_at if d else None,
        "late_inputs": [late_to_json(late) for late in tracked.late_inputs],
    }


def late_to_json(late: LateInput) -> dict:
    return {
        "input": late.input,
        "at": late.at.isoformat(),
        "state": late.state,
        "reason": late.reason,
        "actor": late.actor,
    }


def late_from_json(raw: dict) -> LateInput:
    return LateInput(**{**raw, "at": datetime.fromisoformat(raw["at"])})


def from_row(row) -> Tracked:
    limit = limit_from_json(row["limit_def"])
    deadline = None
    if row["state"] != "errored":
        deadline = Deadline(
            deadline_id=row["id"],
            ticket_id=row["ticket_id"] or row["subject_id"],
            limit=limit,
            policy=row["policy"],
            opened_at=row["opened_at"],
            due_at=row["due_at"],
            warn_at=row["warn_at"],
            state=DeadlineState(row["state"]),
            pauses=tuple(
                Pause(datetime.fromisoformat(a), datetime.fromisoformat(b))
                for a, b in row["pauses"]
            ),
            paused_since=row["paused_since"],
            warned_at=row["warned_at"],
            breached_at=row["breached_at"],
            closed_at=row["closed_at"],
            escalations_sent=tuple(row["escalations_sent"]),
            breach_retracted_at=row["breach_retracted_at"],
        )
    return Tracked(
        deadline_id=row["id"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        limit=limit,
        policy=row["policy"],
        opened_at=row["opened_at"],
        ticket_id=row["ticket_id"],
        unit_id=row["unit_id"],
        ticket_type=row["ticket_type"],
        deadline=deadline,
        error=row["error"],
        met_on_time=row["met_on_time"],
        cancel_reason=row["cancel_reason"],
        provisional=row["provisional"],
        late_inputs=tuple(late_from_json(raw) for raw in row["late_inputs"]),
    )


# ---------------------------------------------------------------- the store


ADD = insert(deadlines).on_conflict_do_nothing(index_elements=[deadlines.c.id])
# A consumer batch's new deadlines in one statement of one text (the rows as one JSON array
# parameter, as the event log's): an INSERT each was a round trip per repair. No ON CONFLICT:
# each was read ahead as absent, so one that exists now was opened meanwhile by another
# transaction (its opening published there too), and the unique violation fails the statement,
# the commit with it: the consumer then applies each event alone, and add() finds that one.
_COLUMNS = ", ".join(deadlines.c.keys())
_NEW_ROWS = f"""
INSERT INTO deadlines ({_COLUMNS})
SELECT {_COLUMNS}
FROM jsonb_populate_recordset(NULL::deadlines, CAST(CAST(:new_deadline_rows AS text) AS jsonb))
"""
ADD_MANY = sa.text(_NEW_ROWS)
# The same rows riding on the commit's last statement (UnitOfWork.ride), in its round trip.
ADD_MANY_RIDING = (
    sa.text(_NEW_ROWS + "RETURNING 1 AS one").columns(sa.column("one")).cte("sla_new_deadlines")
)
EXISTING = sa.select(deadlines.c.id).where(
    deadlines.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(deadlines.c.id.type)))
)
# The unit of work's new deadlines (session.info: one per unit of work, as its session is).
NEW_DEADLINES = "sla_new_deadlines"


@dataclass
class NewDeadlines:
    """A consumer batch's deadlines to open, inserted riding on the commit's last statement (or
    in a statement of their own before a read of the table: DeadlineRepository.written).
    Whether each exists was read ahead for the batch's events in one statement (read,
    existing); the batch's own are `opened`."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    opened: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)
    existing: set[str] = field(default_factory=set)


def _riding(new: NewDeadlines) -> Riding | None:
    """The batch's new deadlines not written yet, riding on the commit's last statement."""
    if not new.rows:
        return None
    rows, new.rows = new.rows, []
    return (ADD_MANY_RIDING,), {"new_deadline_rows": jsontext.dumps_rows(rows).decode()}


class DeadlineRepository:
    """The Postgres store. Reads meant for a change lock their rows (FOR UPDATE)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def read_ahead_done(self) -> bool:
        """Whether this unit of work read ahead already (for all of its batch's later events)."""
        return NEW_DEADLINES in self.session.info

    async def read_ahead(self, uow: UnitOfWork, ids: set[str]) -> None:
        """Whether the deadlines a consumer batch's events open exist, read in one statement:
        from then on add() of any of them is written at commit with the batch's others. What it
        read is what each add would find in turn: until then only this unit of work opens them
        (a subject's events are one key's, applied in order by one consumer)."""
        new = self.session.info[NEW_DEADLINES] = NewDeadlines()
        if len(ids) < 2:
            return  # one deadline to open: its own INSERT at once costs no more than the read
        uow.ride(lambda: _riding(new))
        found = await direct.execute(self.session, EXISTING, {"ids": sorted(ids)})
        new.read, new.existing = ids, {row.id for row in found}

    async def exists(self, subject_type: str, subject_id: str, limit_key: str) -> bool:
        return bool(
            await self.session.scalar(
                sa.select(sa.func.count())
                .select_from(deadlines)
                .where(
                    deadlines.c.subject_type == subject_type,
                    deadlines.c.subject_id == subject_id,
                    deadlines.c.limit_key == limit_key,
                )
            )
        )

    async def add(self, tracked: Tracked) -> bool:
        """Insert; False when this deadline exists (a replayed cause: its id is deterministic,
        from subject, limit and round)."""
        new: NewDeadlines | None = self.session.info.get(NEW_DEADLINES)
        if new is not None and tracked.deadline_id in new.opened:
            return False
        if new is not None and tracked.deadline_id in new.read:
            if tracked.deadline_id in new.existing:
                return False
            row = to_row(tracked)
            new.rows.append(row)
            new.opened.add(tracked.deadline_id)
            note_insert(self.session, "deadlines", [row])
            return True
        # One statement built once, the row as its parameters, run on the session's connection:
        # the ORM's execution of it (and its change capture) cost more CPU than the round trip
        # on the consumer's hot path. The audit trail is given the row it wrote.
        row = to_row(tracked)
        connection = await self.session.connection()
        if rows_affected(await connection.execute(ADD, row)) != 1:
            return False
        note_insert(self.session, "deadlines", [row])
        if new is not None:
            new.opened.add(tracked.deadline_id)
        return True

    async def written(self) -> None:
        """The batch's new deadlines gathered so far, written now, before a read of the table
        (of_subject) that must see them; those gathered after it ride on the commit."""
        new: NewDeadlines | None = self.session.info.get(NEW_DEADLINES)
        if new is None or not new.rows:
            return
        rows, new.rows = new.rows, []
        await direct.execute(
            self.session, ADD_MANY, {"new_deadline_rows": jsontext.dumps_rows(rows).decode()}
        )

    async def save(self, tracked: Tracked) -> None:
        row = to_row(tracked)
        await self.session.execute(
            deadlines.update().where(deadlines.c.id == row.pop("id")).values(**row)
        )

    async def note_late(self, tracked: Tracked) -> None:
        """Keep the newest late input on the deadline and count it (live only: a replay of the
        history meets the same inputs again and must not count them twice)."""
        await self.save(tracked)
        late = tracked.late_inputs[-1]
        LATE_INPUTS.labels(limit_key=tracked.limit.key, input=late.input, state=late.state).inc()

    async def save_many(self, batch: list[Tracked]) -> None:
        """Write the clock state of many deadlines at once (an executemany: one round trip). Only the
        columns a deadline's life changes are written; its identity and limit snapshot never do."""
        if not batch:
            return
        rows = [
            {f"v_{k}": v for k, v in to_row(t).items() if k not in FIXED_COLUMNS or k == "id"}
            for t in batch
        ]
        changing = [c for c in deadlines.c.keys() if c not in FIXED_COLUMNS]
        statement = (
            deadlines.update()
            .where(deadlines.c.id == sa.bindparam("v_id"))
            .values({c: sa.bindparam(f"v_{c}") for c in changing})
        )
        await self.session.execute(statement, rows)

    async def next_fire_at(self) -> datetime | None:
        """The earliest pending fire time (the partial index on next_fire_at answers it)."""
        return await self.session.scalar(sa.select(sa.func.min(deadlines.c.next_fire_at)))

    async def of_subject(self, subject_type: str, subject_id: str) -> list[Tracked]:
        await self.written()  # the batch's new deadlines are the table's too
        query = (
            sa.select(deadlines)
            .where(deadlines.c.subject_type == subject_type, deadlines.c.subject_id == subject_id)
            .order_by(deadlines.c.limit_key)
            .with_for_update()
        )
        return [from_row(r) for r in (await self.session.execute(query)).mappings()]

    async def get(self, deadline_id: str, *, lock: bool = False) -> Tracked | None:
        query = sa.select(deadlines).where(deadlines.c.id == deadline_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return from_row(row) if row else None

    async def due(self, now: datetime, *, limit: int = 200) -> list[Tracked]:
        """Rows whose next fire time has come, locked; rows another worker holds are skipped."""
        query = (
            sa.select(deadlines)
            .where(deadlines.c.next_fire_at <= now)
            .order_by(deadlines.c.next_fire_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [from_row(r) for r in (await self.session.execute(query)).mappings()]

    async def provisional(self) -> list[Tracked]:
        """Running deadlines counted weekends-only through an unknown year, locked."""
        query = (
            sa.select(deadlines)
            .where(deadlines.c.provisional, deadlines.c.state.not_in(FINAL_STATES))
            .order_by(deadlines.c.opened_at)
            .with_for_update()
        )
        return [from_row(r) for r in (await self.session.execute(query)).mappings()]

    async def count_provisional(self) -> int:
        count = await self.session.scalar(
            sa.select(sa.func.count())
            .select_from(deadlines)
            .where(deadlines.c.provisional, deadlines.c.state.not_in(FINAL_STATES))
        )
        return count or 0  # count() always answers

    async def find(
        self,
        *,
        subject_id: str | None = None,
        ticket_id: str | None = None,
        state: str | None = None,
    ) -> list:
        query = sa.select(deadlines).order_by(deadlines.c.opened_at, deadlines.c.limit_key)
        if subject_id:
            query = query.where(deadlines.c.subject_id == subject_id)
        if ticket_id:
            query = query.where(deadlines.c.ticket_id == ticket_id)
        if state:
            query = query.where(deadlines.c.state == state)
        return list((await self.session.execute(query)).mappings().all())

    async def find_by_id(self, deadline_id: str) -> list:
        return list(
            (
                await self.session.execute(
                    sa.select(deadlines).where(deadlines.c.id == deadline_id)
                )
            ).mappings()
        )

    async def all_tracked(self) -> list[Tracked]:
        rows = await self.session.execute(sa.select(deadlines).order_by(deadlines.c.opened_at))
        return [from_row(r) for r in rows.mappings()]


class MemoryStore:
    """The same store in memory: what replay rebuilds into (it counts nothing: a replay's late
    inputs were counted when they came)."""

    def __init__(self) -> None:
        self.rows: dict[str, Tracked] = {}

    async def add(self, tracked: Tracked) -> bool:
        if tracked.deadline_id in self.rows:
            return False
        self.rows[tracked.deadline_id] = tracked
        return True

    async def save(self, tracked: Tracked) -> None:
        self.rows[tracked.deadline_id] = tracked

    async def note_late(self, tracked: Tracked) -> None:
        await self.save(tracked)

    async def of_subject(self, subject_type: str, subject_id: str) -> list[Tracked]:
        return sorted(
            (
                t
                for t in self.rows.values()
                if (t.subject_type, t.subject_id) == (subject_type, subject_id)
            ),
            key=lambda t: t.limit.key,
        )

    async def get(self, deadline_id: str, *, lock: bool = False) -> Tracked | None:
        return self.rows.get(deadline_id)

    async def provisional(self) -> list[Tracked]:
        return [t for t in self.rows.values() if t.provisional and not t.is_final]

    async def save_many(self, batch: list[Tracked]) -> None:
        for tracked in batch:
            await self.save(tracked)

    async def next_fire_at(self) -> datetime | None:
        return min(
            (t.next_fire_at for t in self.rows.values() if t.next_fire_at is not None), default=None
        )

    async def due(self, now: datetime, *, limit: int = 10**9) -> list[Tracked]:
        due = [
            (at, t) for t in self.rows.values() if (at := t.next_fire_at) is not None and at <= now
        ]
        return [t for _, t in sorted(due, key=lambda pair: pair[0])][:limit]


# ---------------------------------------------------------------- inputs kept for KPIs and replay


# The events a unit of work logs, in the batch's order (the replay reads them back by seq): a
# data-modifying CTE of the commit's last statement (UnitOfWork.ride), the rows as one JSON array
# parameter. A statement of its own cost a round trip per batch, through SQLAlchemy's execution.
LOG_MANY = (
    sa.text(
        """
INSERT INTO event_log (event_id, event_type, source, subject, time, data)
SELECT event_id, event_type, source, subject, time, data
FROM jsonb_populate_recordset(NULL::event_log, CAST(CAST(:event_log_rows AS text) AS jsonb))
     WITH ORDINALITY AS r
ORDER BY r.ordinality
ON CONFLICT (event_id) DO NOTHING
RETURNING 1 AS one
"""
    )
    .columns(sa.column("one"))
    .cte("sla_event_log")
)
# The unit of work's rows to log (session.info: one list per unit of work, as its session is).
LOGGING = "sla_event_log"


def log_row(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "event_type": event.type,
        "source": event.source,
        "subject": event.subject,
        "time": event.time,
        "data": event.data,
    }


def _logged(rows: list[dict[str, Any]]) -> Riding | None:
    if not rows:
        return None
    return (LOG_MANY,), {"event_log_rows": jsontext.dumps_rows(rows).decode()}


class HistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def log(self, event: Event) -> None:
        await self.session.execute(  # parameters, not VALUES: see DeadlineRepository.add
            insert(event_log).on_conflict_do_nothing(index_elements=["event_id"]),
            log_row(event),
        )

    def log_at_commit(self, uow: UnitOfWork, event: Event) -> None:
        """Log the event with the others of the unit of work, riding on the commit's last
        statement (a consumer's batch: a statement per event was a round trip and an ORM
        execution each). The audit trail has each event's row at once, against that event."""
        rows: list[dict[str, Any]] = uow.gathered_to_ride(LOGGING, list, _logged)
        row = log_row(event)
        rows.append(row)
        note_insert(self.session, "event_log", [row], copied=("data",))

    async def history(self) -> list[Event]:
        rows = await self.session.execute(sa.select(event_log).order_by(event_log.c.seq))
        return [
            Event(
                type=r["event_type"],
                source=r["source"],
                subject=r["subject"],
                data=r["data"],
                id=r["event_id"],
                time=r["time"],
            )
            for r in rows.mappings()
        ]

    async def record_call(self, call_id: str, **values) -> None:
        values = {k: v for k, v in values.items() if v is not None}
        statement = insert(calls).values(call_id=call_id, **values)
        if values:
            statement = statement.on_conflict_do_update(index_elements=["call_id"], set_=values)
        else:
            statement = statement.on_conflict_do_nothing(index_elements=["call_id"])
        await self.session.execute(statement)

    async def record_callback_rate(
        self,
        *,
        key: str,
        day: date,
        unit_id: str,
        ticket_type: str,
        finished: int,
        called_back: int,
        attempted_unreached: int,
        computed_at: datetime,
    ) -> None:
        values = dict(
            day=day,
            unit_id=unit_id,
            ticket_type=ticket_type,
            finished=finished,
            called_back=called_back,
            attempted_unreached=attempted_unreached,
            computed_at=computed_at,
        )
        await self.session.execute(
            insert(callback_rates)
            .values(key=key, **values)
            .on_conflict_do_update(
                index_elements=["key"],
                set_=values,
                where=callback_rates.c.computed_at <= computed_at,
            )
        )

    async def record_planned_notice(self, planned_outage_id: str, **values) -> None:
        """One row per planned outage; a redelivered registration changes nothing."""
        await self.session.execute(
            insert(planned_outage_notices)
            .values(planned_outage_id=planned_outage_id, **values)
            .on_conflict_do_nothing(index_elements=[planned_outage_notices.c.planned_outage_id])
        )

    async def callback_rates_between(self, first: date, last: date) -> list:
        rows = await self.session.execute(
            sa.select(callback_rates).where(
                callback_rates.c.day >= first, callback_rates.c.day <= last
            )
        )
        return list(rows.mappings())


# ---------------------------------------------------------------- KPI sums, aggregated in the database


def _minute_floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _minute_ceil(moment: datetime) -> datetime:
    floor = _minute_floor(moment)
    return floor if floor == moment else floor + timedelta(minutes=1)


def _kind_tests(limit_key) -> dict[str, Any]:
    """kpis.ON_TIME_KINDS as SQL tests of a limit key column."""
    return {
        kind: limit_key == match.exact
        if match.exact is not None
        else limit_key.startswith(match.prefix, autoescape=True)
        for kind, match in kpis.ON_TIME_KINDS.items()
    }


# The deltas moved into the counts in one statement, in key order: two folds at once take the
# counts' row locks in the same order.
FOLD = sa.text(
    """
WITH moved AS (DELETE FROM deadline_kpi_deltas RETURNING *)
INSERT INTO deadline_kpi_counts AS c (minute, limit_key, unit_id, ticket_type, decided, on_time)
SELECT minute, limit_key, unit_id, ticket_type, sum(decided), sum(on_time)
FROM moved
GROUP BY minute, limit_key, unit_id, ticket_type
ORDER BY minute, limit_key, unit_id, ticket_type
ON CONFLICT (minute, limit_key, unit_id, ticket_type)
DO UPDATE SET decided = c.decided + excluded.decided, on_time = c.on_time + excluded.on_time
"""
)


class KpiRepository:
    """The partial sums of kpis.SUMS per group, computed by Postgres with aggregates: no fact row
    is ever loaded into the service (a day of a big centre is a million deadlines). The filters and
    counts are kpis.compute()'s, written in SQL; a test checks both agree on the same facts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sums(
        self,
        *,
        start: datetime,
        end: datetime,
        first_day: date,
        last_day: date,
        group_by: str,
        tz: str,
        answer_threshold_s: float,
    ) -> dict[str | None, dict[str, float]]:
        """Sums per group over calls that rang and deadlines opened in [start, end) and the callback
        rates of business days [first_day, last_day]. Groups nothing counted in are absent."""
        if group_by not in kpis.GROUPINGS:
            raise ValueError(f"group_by must be one of {kpis.GROUPINGS}")
        buckets: dict[str | None, dict[str, float]] = {}

        def moment_group(column):
            if group_by in kpis.INTERVALS:
                # the interval's start as local wall time, as kpis.compute keys it
                local = sa.func.timezone(tz, column)
                return sa.func.date_bin(
                    sa.text(f"interval '{kpis.INTERVALS[group_by]} minutes'"),
                    local,
                    sa.text("timestamp '2000-01-01 00:00:00'"),
                )
            return sa.cast(sa.func.timezone(tz, column), sa.Date) if group_by == "day" else None

        def fact_group(moment, day, unit, ticket_type):
            if group_by in kpis.INTERVALS:
                return moment  # None for callback rates: they carry a day, not a moment
            return {
                "all": None,
                "day": moment if moment is not None else day,
                "unit": unit,
                "ticket_type": ticket_type,
            }[group_by]

        # calls: offered = those with an outcome (answered or ended)
        delay = sa.func.coalesce(
            calls.c.answer_delay_seconds,
            sa.cast(sa.extract("epoch", calls.c.answered_at - calls.c.rang_at), sa.Float),
        )
        answered = calls.c.answered_at.is_not(None)
        handled = sa.and_(answered, calls.c.ended_at.is_not(None))
        handle = sa.cast(sa.extract("epoch", calls.c.ended_at - calls.c.answered_at), sa.Float)
        await self._collect(
            buckets,
            group_by,
            fact_group(moment_group(calls.c.rang_at), None, None, None),
            {
                "offered": sa.func.count(),
                "answered": sa.func.count().filter(answered),
                "delay_sum": sa.func.coalesce(sa.func.sum(delay).filter(answered), 0.0),
                "handled": sa.func.count().filter(handled),
                "handle_sum": sa.func.coalesce(sa.func.sum(handle).filter(handled), 0.0),
                "within": sa.func.count().filter(answered, delay <= answer_threshold_s),
                "abandoned": sa.func.count().filter(
                    calls.c.answered_at.is_(None), calls.c.cause == "abandoned"
                ),
            },
            calls,
            calls.c.rang_at >= start,
            calls.c.rang_at < end,
            sa.or_(answered, calls.c.ended_at.is_not(None)),
        )

        # deadlines: the decided ones (met, or breached and not yet met) of an on-time kind. Whole
        # minutes of the window are summed from the per-minute counts; only a window's partial
        # minutes (never those of business days) read deadlines, a minute's worth at each edge.
        first, last = _minute_ceil(start), _minute_floor(end)
        if first < last:
            await self._collect_counts(buckets, group_by, fact_group, moment_group, first, last)
            edges = [(start, first), (last, end)]
        else:
            edges = [(start, end)]
        edges = [(a, b) for a, b in edges if a < b]
        if edges:
            await self._collect_deadlines(buckets, group_by, fact_group, moment_group, edges)

        # callback rates: the latest per key (the table keeps only that)
        await self._collect(
            buckets,
            group_by,
            fact_group(
                None, callback_rates.c.day, callback_rates.c.unit_id, callback_rates.c.ticket_type
            ),
            {
                "finished": sa.func.coalesce(sa.func.sum(callback_rates.c.finished), 0),
                "called_back": sa.func.coalesce(sa.func.sum(callback_rates.c.called_back), 0),
            },
            callback_rates,
            callback_rates.c.day >= first_day,
            callback_rates.c.day <= last_day,
        )
        # planned outage notices: registered in the window, late ones are breaches
        await self._collect(
            buckets,
            group_by,
            fact_group(
                moment_group(planned_outage_notices.c.registered_at),
                None,
                planned_outage_notices.c.unit_id,
                None,
            ),
            {
                "planned_notices": sa.func.count(),
                "planned_notices_late": sa.func.count().filter(
                    planned_outage_notices.c.notice_late
                ),
            },
            planned_outage_notices,
            planned_outage_notices.c.registered_at >= start,
            planned_outage_notices.c.registered_at < end,
        )
        return buckets

    async def _collect_deadlines(
        self, buckets: dict, group_by: str, fact_group, moment_group, ranges
    ) -> None:
        """The on-time sums of the deadlines opened in the ranges, from the deadlines themselves."""
        kinds = _kind_tests(deadlines.c.limit_key)
        on_time = sa.and_(deadlines.c.state == "met", deadlines.c.met_on_time.is_(True))
        columns = {}
        for kind, test in kinds.items():
            columns[f"{kind}_decided"] = sa.func.count().filter(test)
            columns[f"{kind}_on_time"] = sa.func.count().filter(test, on_time)
        opened = deadlines.c.opened_at
        await self._collect(
            buckets,
            group_by,
            fact_group(moment_group(opened), None, deadlines.c.unit_id, deadlines.c.ticket_type),
            columns,
            deadlines,
            sa.or_(*(sa.and_(opened >= a, opened < b) for a, b in ranges)),
            deadlines.c.state.in_(("met", "breached")),
            sa.or_(*kinds.values()),
        )

    async def _collect_counts(
        self, buckets: dict, group_by: str, fact_group, moment_group, first, last
    ) -> None:
        """The same sums over deadlines opened in whole minutes [first, last), from the counts
        folded and the deltas not yet folded: rows per minute and key, whatever the volume."""
        parts = [
            sa.select(t).where(t.c.minute >= first, t.c.minute < last)
            for t in (deadline_kpi_counts, deadline_kpi_deltas)
        ]
        counts = sa.union_all(*parts).subquery("counts")
        kinds = _kind_tests(counts.c.limit_key)
        columns = {}
        for kind, test in kinds.items():
            columns[f"{kind}_decided"] = sa.func.coalesce(
                sa.func.sum(counts.c.decided).filter(test), 0
            )
            columns[f"{kind}_on_time"] = sa.func.coalesce(
                sa.func.sum(counts.c.on_time).filter(test), 0
            )
        # A group is there when a decided deadline of an on-time kind is, net of changes: one
        # breached then cancelled left +1 and -1 behind, and no group.
        decided = sa.func.coalesce(sa.func.sum(counts.c.decided).filter(sa.or_(*kinds.values())), 0)
        await self._collect(
            buckets,
            group_by,
            fact_group(moment_group(counts.c.minute), None, counts.c.unit_id, counts.c.ticket_type),
            columns,
            counts,
            sa.or_(*kinds.values()),
            n=decided,
        )

    async def fold(self) -> None:
        """Add the deltas the triggers left into the counts, one row per key, so what the sums
        read stays a row per minute and key. Concurrent folds are safe: a delta is deleted once."""
        await self.session.execute(FOLD)

    async def _collect(
        self, buckets: dict, group_by: str, group, columns: dict, table, *where, n=None
    ) -> None:
        """`n` counts a group's facts (count(*) unless given): a group of none is left out."""
        query = sa.select(
            (sa.func.count() if n is None else n).label("_n"),
            *(value.label(name) for name, value in columns.items()),
        )
        query = query.select_from(table).where(*where)
        if group is not None:
            query = query.add_columns(group.label("_group")).group_by(sa.literal_column("_group"))
        for row in (await self.session.execute(query)).mappings():
            if not row["_n"]:
                continue  # no GROUP BY and nothing matched: no group
            key = "all" if group_by == "all" else (row["_group"] if group is not None else None)
            if isinstance(key, date):
                key = key.isoformat()
            bucket = buckets.setdefault(key, {})
            for name in columns:
                bucket[name] = bucket.get(name, 0) + float(row[name])

    async def month_callback_sums(self, month: date) -> dict[str, kpis.CallbackSums]:
        """Month-to-date callback sums by unit of the month `month` lies in, up to that day."""
        rows = await self.session.execute(
            sa.select(
                callback_rates.c.unit_id,
                sa.func.sum(callback_rates.c.finished),
                sa.func.sum(callback_rates.c.called_back),
                sa.func.sum(callback_rates.c.attempted_unreached),
            )
            .where(callback_rates.c.day >= month.replace(day=1), callback_rates.c.day <= month)
            .group_by(callback_rates.c.unit_id)
        )
        return {
            unit: kpis.CallbackSums(int(finished), int(called_back), int(unreached))
            for unit, finished, called_back, unreached in rows
        }
