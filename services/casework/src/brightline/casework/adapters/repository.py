"""Cases, their history, contacts, deadlines, reminders, escalations and departments in Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.casework.adapters.orm import (
    case_contacts,
    case_deadlines,
    case_history,
    cases,
    confidential_reads,
    departments,
    escalations,
    reminders,
)
from brightline.casework.domain.model import REPLY_STEPS, Case, Step, awaiting_new_reply
from brightline.platform.db import rows_affected

# A reply limit (complaint.reply, report.reply, ...) still running: the department's reply is
# due by the earliest of them. A met or paused one is not a date anybody works to.
REPLY_LIMIT_SUFFIX = ".reply"
RUNNING_STATES = ("open", "warned", "breached")

_CASE_COLUMNS = (
    "ticket_id",
    "ticket_no",
    "case_type",
    "status",
    "opened_at",
    "first_ask_owner",
    "description",
    "transfer_due",
    "complaint_subtype",
    "complaint_grade",
    "anonymous",
    "reported_party",
    "department_id",
    "reply_text",
    "answer_text",
    "reopen_count",
)


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- cases ---------------------------------------------------------------------------------

    async def add(self, case: Case) -> None:
        await self.session.execute(cases.insert().values(id=case.id, **_row(case)))
        await self._append_steps(case)

    async def save(self, case: Case) -> None:
        await self.session.execute(cases.update().where(cases.c.id == case.id).values(**_row(case)))
        await self._append_steps(case)

    async def _append_steps(self, case: Case) -> None:
        if case.new_steps:
            await self.session.execute(
                case_history.insert(),
                [
                    {
                        "case_id": case.id,
                        "action": s.action,
                        "actor": s.actor,
                        "at": s.at,
                        "from_status": s.from_status,
                        "to_status": s.to_status,
                        "department_id": s.department_id,
                        "note": s.note,
                    }
                    for s in case.new_steps
                ],
            )
            case.new_steps.clear()

    async def get(self, case_id: str, *, for_update: bool = False) -> Case | None:
        return await self._one(cases.c.id == case_id, for_update)

    async def by_ticket(self, ticket_id: str, *, for_update: bool = False) -> Case | None:
        return await self._one(cases.c.ticket_id == ticket_id, for_update)

    async def _one(self, where, for_update: bool) -> Case | None:
        query = sa.select(cases).where(where)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        steps = (
            await self.session.execute(
                sa.select(case_history)
                .where(case_history.c.case_id == row.id)
                .order_by(case_history.c.id)
            )
        ).all()
        return _case(
            row,
            [
                Step(s.action, s.actor, s.at, s.from_status, s.to_status, s.department_id, s.note)
                for s in steps
            ],
        )

    async def list(
        self,
        *,
        statuses: Sequence[str] | None = None,
        case_type: str | None = None,
        department_id: str | None = None,
        first_ask_owner: str | None = None,
        oldest_first: bool = False,
        limit: int = 200,
    ) -> list[Case]:
        opened = cases.c.opened_at.asc() if oldest_first else cases.c.opened_at.desc()
        query = sa.select(cases).order_by(opened, cases.c.id).limit(limit)
        if first_ask_owner:
            query = query.where(cases.c.first_ask_owner == first_ask_owner)
        if statuses:
            query = query.where(cases.c.status.in_(statuses))
        if case_type:
            query = query.where(cases.c.case_type == case_type)
        if department_id:
            query = query.where(cases.c.department_id == department_id)
        return [_case(r, []) for r in (await self.session.execute(query)).all()]

    # --- confidential contact and its audit ----------------------------------------------------

    async def put_contact(self, case_id: str, sealed: dict) -> None:
        await self.session.execute(case_contacts.insert().values(case_id=case_id, **sealed))

    async def contact_row(self, case_id: str):
        return (
            await self.session.execute(
                sa.select(case_contacts).where(case_contacts.c.case_id == case_id)
            )
        ).first()

    async def audit_read(
        self,
        *,
        case_id: str,
        reader: str,
        roles: Iterable[str],
        department_id: str | None,
        fields: Sequence[str],
        granted: bool,
        at: datetime,
    ) -> None:
        await self.session.execute(
            confidential_reads.insert().values(
                case_id=case_id,
                reader=reader,
                roles=sorted(roles),
                department_id=department_id,
                fields=list(fields),
                granted=granted,
                at=at,
            )
        )

    async def audit_rows(
        self, *, case_id: str | None = None, reader: str | None = None, limit: int
    ):
        # With the case's ticket: an auditor looks a read up by its 工单号.
        query = (
            sa.select(confidential_reads, cases.c.ticket_id, cases.c.ticket_no, cases.c.case_type)
            .join(cases, cases.c.id == confidential_reads.c.case_id)
            .order_by(confidential_reads.c.id.desc())
            .limit(limit)
        )
        if case_id:
            query = query.where(confidential_reads.c.case_id == case_id)
        if reader:
            query = query.where(confidential_reads.c.reader == reader)
        return (await self.session.execute(query)).all()

    # --- deadlines, reminders, escalations -----------------------------------------------------

    async def upsert_deadline(self, values: dict) -> None:
        stmt = insert(case_deadlines).values(**values)
        update = {
            k: stmt.excluded[k]
            for k in values
            if k not in ("deadline_id", "opened_at") and values[k] is not None
        }
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["deadline_id"], set_=update)
        )

    async def set_deadline_state(self, deadline_id: str, state: str) -> None:
        await self.session.execute(
            case_deadlines.update()
            .where(case_deadlines.c.deadline_id == deadline_id)
            .values(state=state)
        )

    async def deadlines(self, case_id: str):
        return (
            await self.session.execute(
                sa.select(case_deadlines)
                .where(case_deadlines.c.case_id == case_id)
                .order_by(case_deadlines.c.due_at)
            )
        ).all()

    async def reply_dues(self, case_ids: Sequence[str]) -> dict[str, datetime]:
        """When each case's reply is due (its earliest running reply limit); a case without one
        is left out. One statement for a whole page of cases."""
        if not case_ids:
            return {}
        rows = await self.session.execute(
            sa.select(case_deadlines.c.case_id, sa.func.min(case_deadlines.c.due_at))
            .where(
                case_deadlines.c.case_id.in_(case_ids),
                case_deadlines.c.limit_key.endswith(REPLY_LIMIT_SUFFIX, autoescape=True),
                case_deadlines.c.state.in_(RUNNING_STATES),
            )
            .group_by(case_deadlines.c.case_id)
        )
        return {case_id: due for case_id, due in rows.all()}

    async def sent_back(self, case_ids: Sequence[str]) -> set[str]:
        """Which of the cases wait for a new reply after a send-back: each case's last reply
        step, one statement for a page."""
        if not case_ids:
            return set()
        last = (
            sa.select(case_history.c.case_id, case_history.c.action)
            .where(case_history.c.case_id.in_(case_ids), case_history.c.action.in_(REPLY_STEPS))
            .ext(distinct_on(case_history.c.case_id))
            .order_by(case_history.c.case_id, case_history.c.id.desc())
        )
        rows = (await self.session.execute(last)).all()
        return {case_id for case_id, action in rows if awaiting_new_reply([action])}

    async def returns(self, case_ids: Sequence[str]) -> dict[str, Step]:
        """The last return to the centre (回退) of each of the cases, one statement for a page;
        a case never returned is left out. Only an opened case is waiting because of it."""
        if not case_ids:
            return {}
        last = (
            sa.select(case_history)
            .where(case_history.c.case_id.in_(case_ids), case_history.c.action == "return")
            .ext(distinct_on(case_history.c.case_id))
            .order_by(case_history.c.case_id, case_history.c.id.desc())
        )
        return {
            row.case_id: Step(
                row.action,
                row.actor,
                row.at,
                row.from_status,
                row.to_status,
                row.department_id,
                row.note,
            )
            for row in (await self.session.execute(last)).all()
        }

    async def add_reminder(self, values: dict) -> bool:
        """False when this deadline's warning was already recorded."""
        result = await self.session.execute(
            insert(reminders)
            .values(id=str(uuid.uuid4()), **values)
            .on_conflict_do_nothing(index_elements=["deadline_id"])
        )
        return rows_affected(result) == 1

    async def reminders(self, *, case_id: str | None = None, department_id: str | None = None):
        query = sa.select(reminders).order_by(reminders.c.warned_at.desc())
        if case_id:
            query = query.where(reminders.c.case_id == case_id)
        if department_id:
            query = query.where(reminders.c.department_id == department_id)
        return (await self.session.execute(query)).all()

    async def add_escalation(self, values: dict) -> bool:
        result = await self.session.execute(
            insert(escalations)
            .values(id=str(uuid.uuid4()), **values)
            .on_conflict_do_nothing(constraint="uq_escalations_deadline_level")
        )
        return rows_affected(result) == 1

    async def escalations(self, *, case_id: str | None = None):
        query = sa.select(escalations).order_by(escalations.c.breached_at.desc())
        if case_id:
            query = query.where(escalations.c.case_id == case_id)
        return (await self.session.execute(query)).all()


class DepartmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(
        self, *, id: str, name: str, case_types: list[str], active: bool, at: datetime, by: str
    ) -> None:
        values = {
            "id": id,
            "name": name,
            "case_types": case_types,
            "active": active,
            "updated_at": at,
            "updated_by": by,
        }
        stmt = insert(departments).values(**values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"], set_={k: stmt.excluded[k] for k in values if k != "id"}
            )
        )

    async def get(self, department_id: str):
        return (
            await self.session.execute(
                sa.select(departments).where(departments.c.id == department_id)
            )
        ).first()

    async def list(self):
        return (await self.session.execute(sa.select(departments).order_by(departments.c.id))).all()


def _row(case: Case) -> dict:
    return {name: getattr(case, name) for name in _CASE_COLUMNS}


def _case(row, history: list[Step]) -> Case:
    return Case(id=row.id, history=history, **{name: getattr(row, name) for name in _CASE_COLUMNS})
