"""Callback tasks, attempts, contacts and rates in Postgres."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.callback.adapters.orm import callback_attempts, callback_tasks, contacts
from brightline.callback.domain.model import REACHED, SATISFIED, CallbackTask, RateCounts
from brightline.contracts import jsontext
from brightline.contracts.events.common import TicketType
from brightline.messaging import direct
from brightline.messaging.unit_of_work import Riding
from brightline.platform.db import rows_affected, written

_TASK_FIELDS = [c.name for c in callback_tasks.columns if c.name != "finish_ref"]

# Open tasks: the predicate of the partial index ix_callback_tasks_open_due, written into the
# SQL (written()). Bound, a generic plan could never use the index, and every claim of the next
# task and every page of the queue read all the tasks ever opened.
IS_OPEN = callback_tasks.c.status == written("open")


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def learn_phone(self, ticket_id: str, phone: str) -> None:
        """A phone from a completion event fills a gap; it never overrides intake's record or anonymity."""
        await write_contacts_seen(self.session)
        stmt = insert(contacts).values(ticket_id=ticket_id, phone=phone, anonymous=False)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[contacts.c.ticket_id],
                set_={"phone": sa.func.coalesce(contacts.c.phone, stmt.excluded.phone)},
                where=~contacts.c.anonymous,
            )
        )

    async def get(self, ticket_id: str):
        await write_contacts_seen(self.session)
        return (
            await self.session.execute(sa.select(contacts).where(contacts.c.ticket_id == ticket_id))
        ).first()


# The unit of work's ContactFold (session.info: one per unit of work, as its session is).
CONTACTS_SEEN = "callback_contacts_seen"


class ContactFold:
    """A consumer batch's contacts (intake's ticket records), one row per ticket, written at
    commit riding on its last statement (riding_contacts): per record an upsert through the
    session, its change capture and a read back cost callback 1.7 ms of CPU and 2.2 round trips
    a ticket (tests/bench/README.md). A later record of the same ticket in the batch wins, as
    the upsert's rule has it: it keeps the phone and name an earlier one gave when it gives
    none, and an anonymous reporter leaves no identity at all."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}

    def seen(self, row: dict[str, Any]) -> None:
        earlier = self._rows.get(row["ticket_id"])
        if earlier is not None and not row["anonymous"]:
            row = {
                **row,
                **{k: earlier[k] if row[k] is None else row[k] for k in ("phone", "caller_name")},
            }
        self._rows[row["ticket_id"]] = row

    def taken(self) -> list[dict[str, Any]]:
        """The rows to write, each once: the fold is empty after."""
        rows, self._rows = list(self._rows.values()), {}
        return rows


def contact_row(
    *,
    ticket_id: str,
    ticket_type: str,
    phone: str | None,
    caller_name: str | None,
    area_code: str | None,
    anonymous: bool,
    recorded_at: datetime | None,
) -> dict[str, Any]:
    """A contact as intake recorded it. An anonymous reporter leaves no identity here."""
    return {
        "ticket_id": ticket_id,
        "ticket_type": ticket_type,
        "anonymous": anonymous,
        "phone": None if anonymous else phone,
        "caller_name": None if anonymous else caller_name,
        "area_code": area_code,
        "recorded_at": recorded_at,
    }


def riding_contacts(fold: ContactFold) -> Riding | None:
    """A batch's contacts, riding on the commit's last statement (UnitOfWork.ride): no round
    trip of their own. The audit trail has each record's row already (audit.note_insert as it
    was gathered)."""
    if not (rows := fold.taken()):
        return None
    return (CONTACTS_SEEN_RIDING,), {"contacts_seen": jsontext.dumps_rows(rows).decode()}


async def write_contacts_seen(session: AsyncSession) -> None:
    """The batch's contacts gathered so far, written now: a handler of the batch is about to read
    or change a contact (a ticket recorded and completed in one batch). What is gathered after
    rides on the commit as before."""
    fold: ContactFold | None = session.info.get(CONTACTS_SEEN)
    if fold is not None and (ride := riding_contacts(fold)) is not None:
        await direct.execute(session, _CONTACTS_SEEN_NOW, ride[1])


# The batch's contacts as one JSON array parameter: one text whatever the batch holds, compiled
# and prepared once. Intake's record wins, except that a phone (a name) already learnt stays
# when the record gives none; an anonymous record clears both. In key order: concurrent batches
# lock the contacts they share in one order.
_COLUMNS = ", ".join(contacts.c.keys())
CONTACTS_SEEN_SQL = sa.text(
    f"""
WITH seen AS MATERIALIZED (
SELECT * FROM jsonb_to_recordset(CAST(CAST(:contacts_seen AS text) AS jsonb)) AS s(
    ticket_id text, ticket_type text, phone text, caller_name text, area_code text,
    anonymous boolean, recorded_at timestamptz)
)
INSERT INTO contacts AS c ({_COLUMNS})
SELECT {_COLUMNS} FROM seen ORDER BY ticket_id
ON CONFLICT (ticket_id) DO UPDATE SET
ticket_type = EXCLUDED.ticket_type,
anonymous = EXCLUDED.anonymous,
area_code = EXCLUDED.area_code,
recorded_at = EXCLUDED.recorded_at,
phone = CASE WHEN EXCLUDED.anonymous THEN NULL ELSE COALESCE(EXCLUDED.phone, c.phone) END,
caller_name = CASE WHEN EXCLUDED.anonymous THEN NULL
                   ELSE COALESCE(EXCLUDED.caller_name, c.caller_name) END
RETURNING 1 AS one
"""
)
CONTACTS_SEEN_RIDING = CONTACTS_SEEN_SQL.columns(sa.column("one")).cte("callback_contacts")
_CONTACTS_SEEN_NOW = sa.select(sa.literal(1)).add_cte(CONTACTS_SEEN_RIDING)


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, task: CallbackTask, *, finish_ref: str) -> bool:
        """Insert unless this finish already opened a task; True when inserted."""
        result = await self.session.execute(
            insert(callback_tasks)
            .values(finish_ref=finish_ref, **_row(task))
            .on_conflict_do_nothing(index_elements=[callback_tasks.c.finish_ref])
        )
        return rows_affected(result) == 1

    async def save(self, task: CallbackTask) -> None:
        await self.session.execute(
            callback_tasks.update().where(callback_tasks.c.id == task.id).values(**_row(task))
        )

    async def add_attempt(
        self,
        task: CallbackTask,
        *,
        outcome: str,
        agent_id: str,
        at: datetime,
        reason: str | None,
        customer_words: str | None,
    ) -> None:
        await self.session.execute(
            callback_attempts.insert().values(
                task_id=task.id,
                attempt_no=task.attempts,
                agent_id=agent_id,
                outcome=outcome,
                reason=reason,
                customer_words=customer_words,
                at=at,
            )
        )

    async def attempts(self, task_id: str) -> list:
        return list(
            (
                await self.session.execute(
                    sa.select(callback_attempts)
                    .where(callback_attempts.c.task_id == task_id)
                    .order_by(callback_attempts.c.attempt_no)
                )
            ).all()
        )

    async def get(self, task_id: str, *, for_update: bool = False) -> CallbackTask | None:
        query = sa.select(callback_tasks).where(callback_tasks.c.id == task_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _task(row) if row else None

    async def open_for_ticket(self, ticket_id: str) -> list[CallbackTask]:
        rows = (
            await self.session.execute(
                sa.select(callback_tasks)
                .where(callback_tasks.c.ticket_id == ticket_id, IS_OPEN)
                .with_for_update()
            )
        ).all()
        return [_task(r) for r in rows]

    async def for_ticket(self, ticket_id: str) -> list[CallbackTask]:
        rows = (
            await self.session.execute(
                sa.select(callback_tasks)
                .where(callback_tasks.c.ticket_id == ticket_id)
                .order_by(callback_tasks.c.finished_at)
            )
        ).all()
        return [_task(r) for r in rows]

    async def waiting(
        self, ticket_type: str | None, overdue_at: datetime | None, limit: int, offset: int
    ) -> tuple[list[CallbackTask], int]:
        """Open tasks, soonest due first, one page of them and how many there are in all. The
        count rides on the page's rows (a window over every match, taken before the page is
        cut): read in a statement of its own, it saw another moment than the page, and a page
        of five could say there were two."""
        where = [IS_OPEN]
        if ticket_type:
            where.append(callback_tasks.c.ticket_type == ticket_type)
        if overdue_at is not None:
            where.append(callback_tasks.c.due_at < overdue_at)
        rows = (
            await self.session.execute(
                sa.select(callback_tasks, sa.func.count().over().label("waiting_total"))
                .where(*where)
                .order_by(callback_tasks.c.due_at, callback_tasks.c.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        if rows:
            return [_task(r) for r in rows], rows[0].waiting_total
        # A page past the end: nothing on it to disagree with the count.
        total = (await self.session.execute(sa.select(sa.func.count()).where(*where))).scalar_one()
        return [], total

    async def held_by(self, agent_id: str, now: datetime) -> CallbackTask | None:
        """The open task this agent already holds under a live lease (a refreshed screen gets it back)."""
        row = (
            await self.session.execute(
                sa.select(callback_tasks)
                .where(
                    IS_OPEN,
                    callback_tasks.c.lease_holder == agent_id,
                    callback_tasks.c.lease_expires_at > now,
                )
                .order_by(callback_tasks.c.due_at)
                .limit(1)
                .with_for_update()
            )
        ).first()
        return _task(row) if row else None

    async def claim_next(self, now: datetime) -> CallbackTask | None:
        """Lock the oldest-due task that is callable now, skipping rows other agents are locking.

        FOR UPDATE SKIP LOCKED makes concurrent claims pick different rows; the lease written in
        the same transaction keeps the row out of later claims until it expires.
        """
        callable_contact = sa.exists().where(
            contacts.c.ticket_id == callback_tasks.c.ticket_id,
            contacts.c.phone.is_not(None),
            ~contacts.c.anonymous,
        )
        row = (
            await self.session.execute(
                sa.select(callback_tasks)
                .where(
                    IS_OPEN,
                    callback_tasks.c.callable,
                    callback_tasks.c.next_attempt_at <= now,
                    sa.or_(
                        callback_tasks.c.lease_expires_at.is_(None),
                        callback_tasks.c.lease_expires_at <= now,
                    ),
                    callable_contact,
                )
                .order_by(
                    callback_tasks.c.due_at, callback_tasks.c.finished_at, callback_tasks.c.id
                )
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        return _task(row) if row else None

    async def of_incident(
        self, incident_id: str, *, lock: bool = False, wait: bool = False
    ) -> list[CallbackTask]:
        """`lock` skips rows another transaction holds; `wait` waits for them instead."""
        query = (
            sa.select(callback_tasks)
            .where(callback_tasks.c.incident_id == incident_id)
            .order_by(callback_tasks.c.finished_at, callback_tasks.c.id)
        )
        if wait:
            query = query.with_for_update()
        elif lock:
            query = query.with_for_update(skip_locked=True)
        return [_task(r) for r in (await self.session.execute(query)).all()]

    async def rates(
        self,
        *,
        day_from: date | None = None,
        day_to: date | None = None,
        unit_id: str | None = None,
        ticket_type: str | None = None,
    ) -> list[RateCounts]:
        t = callback_tasks.c
        ended = sa.and_(t.status == "closed", t.attempts > 0)
        query = (
            sa.select(
                t.finished_day,
                t.unit_id,
                t.ticket_type,
                sa.func.count().label("finished"),
                sa.func.count().filter(ended, t.outcome.in_(REACHED)).label("reached"),
                sa.func.count().filter(ended, t.outcome.in_(SATISFIED)).label("satisfied"),
                sa.func.count().filter(ended, t.outcome == "unreachable").label("unreached"),
            )
            .where(t.callable)
            .group_by(t.finished_day, t.unit_id, t.ticket_type)
            .order_by(t.finished_day, t.unit_id, t.ticket_type)
        )
        if day_from:
            query = query.where(t.finished_day >= day_from)
        if day_to:
            query = query.where(t.finished_day <= day_to)
        if unit_id:
            query = query.where(t.unit_id == unit_id)
        if ticket_type:
            query = query.where(t.ticket_type == ticket_type)
        return [
            RateCounts(
                day=r.finished_day,
                unit_id=r.unit_id,
                ticket_type=r.ticket_type,
                finished=r.finished,
                called_back=r.reached,  # only customers actually reached are called back
                reached=r.reached,
                satisfied=r.satisfied,
                attempted_unreached=r.unreached,
            )
            for r in (await self.session.execute(query)).all()
        ]

    async def rate_of(self, day: date, unit_id: str, ticket_type: TicketType) -> RateCounts:
        found = await self.rates(day_from=day, day_to=day, unit_id=unit_id, ticket_type=ticket_type)
        return found[0] if found else RateCounts(day, unit_id, ticket_type, 0, 0, 0, 0, 0)


def _row(task: CallbackTask) -> dict:
    return {name: getattr(task, name) for name in _TASK_FIELDS}


def _task(row) -> CallbackTask:
    return CallbackTask(**{name: getattr(row, name) for name in _TASK_FIELDS})


async def lock_rate(session: AsyncSession, key: str) -> None:
    """Serialise recomputations of one day/unit/type so the last rate published is the latest."""
    await session.execute(
        sa.select(
            sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(f"callback-rate:{key}", 0))
        )
    )
