"""Intake's rows in and out of Postgres."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.calendar import business_date
from brightline.contracts import jsontext
from brightline.intake.adapters.orm import (
    audit_log,
    call_events,
    calls,
    customer_phones,
    customers,
    escalations,
    number_flags,
    outages,
    ticket_no_seq,
    tickets,
    work_orders,
)
from brightline.intake.domain.calls import CallRecord
from brightline.intake.domain.linking import ActiveOutage, OpenRepair, address_key
from brightline.intake.domain.model import Ticket
from brightline.intake.domain.outage_updates import OutageUpdateFold
from brightline.intake.domain.work_orders import WorkOrderFold
from brightline.intake.planned_outages import in_effect_over
from brightline.messaging import UnitOfWork, direct, idempotency
from brightline.messaging.audit import note_insert
from brightline.messaging.unit_of_work import Riding
from brightline.platform.db import written
from brightline.platform.phones import normalise_phone

# Ticket.open. Written into the SQL (written()), so that the planner can use the partial index
# ix_tickets_owner_open (migration 0003) for every plan, generic ones too.
OPEN_STATUSES = ("recorded", "reopened")
# Work-order states after which the fault is no longer "being handled".
FINISHED_ORDER_STATES = ("resolved", "returned", "cancelled")
# The same, written into the SQL once (written()): bound, a list of values is an expanding
# parameter, rendered into the cached SQL anew on every execution, and every new repair's INSERT
# looks for what is being handled.
_FINISHED_ORDER_STATES = [written(s) for s in FINISHED_ORDER_STATES]
_LOCK = sa.func.pg_advisory_xact_lock(sa.func.hashtext(sa.bindparam("lock_key", type_=sa.Text)))
_LOCK_ADDRESS = sa.select(_LOCK)
# The same lock and the caller's customer record (a row of NULLs when there is none).
_LOCKED = _LOCK_ADDRESS.subquery("locked")
_CUSTOMER = (customers, customers.c.customer_id == sa.bindparam("customer_id", type_=sa.String))
_LOCK_ADDRESS_AND_CUSTOMER = sa.select(
    *_LOCKED.c, customers.c.area_code, customers.c.meter_no
).select_from(_LOCKED.outerjoin(*_CUSTOMER))
# Both after the request's Idempotency-Key claim, in its round trip (idempotency.riding).
_CLAIM_AND_LOCK = idempotency.riding(_LOCK)
_CLAIM_LOCK_AND_CUSTOMER = idempotency.riding(
    _LOCK, customers.c.area_code, customers.c.meter_no, join=_CUSTOMER
)


class RepairContext(NamedTuple):
    """What makes a repair call a repeat call (TicketRepository.add_unless_handled), and the
    number drawn for the ticket the call is recorded as instead (add_at_commit)."""

    open_repairs: builtins.list[OpenRepair]
    active_outages: builtins.list[ActiveOutage]
    ticket_no: str
    planned_outage_id: str | None  # a planned outage (计划停电) in effect over the call's area


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # The columns a new ticket is inserted with, as bind parameters of the same names.
    _COLUMNS = (
        "id",
        "recorded_at",
        "first_ask_owner",
        "description",
        "type",
        "status",
        "owner",
        "details",
        "phone",
        "customer_id",
        "address_key",
        "area_code",
        "meter_no",
        "call_id",
        "script",
        "linked_ticket_id",
        "linked_incident_id",
        "completed_at",
        "completed_by",
        "closed",
    )

    @staticmethod
    def _number() -> sa.ColumnElement:
        """The ticket number, taken in the INSERT itself: the recording day in the business
        timezone (bound as `business_day`: a call at 01:00 Beijing time is that day's, not the
        UTC day before) and the next value of ticket_no_seq, zero-padded to at least 7 digits
        (YYYYMMDD0000042)."""
        return sa.bindparam("business_day", type_=sa.String) + sa.func.to_char(
            ticket_no_seq.next_value(), "FM9999999999990000000"
        )

    @staticmethod
    def _params(ticket: Ticket, tz: str | None) -> dict[str, Any]:
        """The bind parameters of the INSERT statements below. They travel as execute()
        parameters: the statements are built once and their compiled form is cached."""
        return dict(
            id=ticket.id,
            recorded_at=ticket.recorded_at,
            first_ask_owner=ticket.first_ask_owner,
            description=ticket.description,
            business_day=f"{business_date(ticket.recorded_at, tz):%Y%m%d}",
            **TicketRepository._columns(ticket),
        )

    @staticmethod
    @cache
    def _numbered_insert() -> sa.Insert:
        return (
            tickets.insert()
            .values(
                {c: sa.bindparam(c, type_=tickets.c[c].type) for c in TicketRepository._COLUMNS}
            )
            .values(no=TicketRepository._number())
            .returning(tickets.c.no)
        )

    @staticmethod
    def _columns(ticket: Ticket) -> dict:
        d = ticket.details
        return dict(
            type=ticket.type,
            status=ticket.status,
            owner=ticket.owner,
            details=d,
            phone=d.get("phone"),
            customer_id=d.get("customer_id"),
            address_key=address_key(d.get("address")),
            area_code=d.get("area_code"),
            meter_no=d.get("meter_no"),
            call_id=d.get("call_id"),
            script=d.get("script"),
            linked_ticket_id=d.get("linked_ticket_id"),
            linked_incident_id=d.get("linked_incident_id"),
            completed_at=ticket.completed_at,
            completed_by=ticket.completed_by,
            closed=not ticket.open,
        )

    async def add(self, ticket: Ticket, *, tz: str | None = None) -> None:
        """Insert the ticket; one without a number (`no=""`) is numbered by the INSERT (see _number)."""
        if ticket.no:
            params = self._params(ticket, tz)
            del params["business_day"]
            await self.session.execute(tickets.insert(), {**params, "no": ticket.no})
            return
        ticket.no = await self.session.scalar(self._numbered_insert(), self._params(ticket, tz))

    async def add_unless_handled(
        self, ticket: Ticket, *, meter_no: str | None, area_code: str | None, tz: str | None = None
    ) -> RepairContext | None:
        """Insert a new repair ticket in the statement that looks for what would make it
        something else: an open repair at its address or meter (with its latest work order's
        progress and the active outage holding it), an active outage over its meter, a planned
        outage in effect over its area. None when there is none: the ticket is in, numbered.
        Otherwise nothing is written and what was found comes back, for repeat-call linking
        (open repairs oldest first, outages by declaration time; both empty when it was only a
        planned outage, which comes back by its id), with the number of the ticket the call is
        recorded as instead, drawn for the ticket's recording time (add_at_commit). A new fault
        costs one round trip, a repeat call or one about a planned outage too: what was found
        rides on the statement that would have inserted the repair.
        Taken under lock_address()."""
        key = address_key(ticket.details.get("address"))
        params = self._params(ticket, tz)
        rows = await direct.execute(
            self.session,
            self._insert_unless_handled(bool(key), bool(meter_no), bool(area_code)),
            {
                **params,
                "match_address_key": key,
                "match_meter_no": meter_no,
                "match_area_code": area_code,
            },
        )
        if rows[0].inserted_no is None:
            return RepairContext(
                *self._context_of(rows),
                ticket_no=rows[0].reserved_no,
                planned_outage_id=rows[0].planned_outage_id,
            )
        ticket.no = rows[0].inserted_no
        # The INSERT rides in a SELECT, which the audit trail's capture does not look into.
        note_insert(
            self.session, "tickets", [{c: params[c] for c in self._COLUMNS} | {"no": ticket.no}]
        )
        return None

    @staticmethod
    @cache
    def _insert_unless_handled(by_address: bool, by_meter: bool, by_area: bool) -> sa.Select:
        """WITH context AS (<_context>), inserted AS (INSERT INTO tickets SELECT <the ticket>
        WHERE NOT EXISTS (context) [AND NOT EXISTS (planned)] RETURNING no)
        , reserved AS (SELECT <the next number> WHERE NOT EXISTS (inserted))
        [, planned AS (<the planned outage in effect over the area>)]
        SELECT (SELECT no FROM inserted) AS inserted_no, (SELECT no FROM reserved) AS
        reserved_no, (SELECT id FROM planned) AS planned_outage_id, context.* FROM (SELECT 1)
        AS one LEFT JOIN context ON true ORDER BY kind, sort_at: one row with no context when
        the ticket went in (or only a planned outage held it back), else a row per context row.
        A number is drawn either way, once per call."""
        values = {c: sa.bindparam(c, type_=tickets.c[c].type) for c in TicketRepository._COLUMNS}
        context = TicketRepository._context(by_address, by_meter).cte("context")
        unless = [~sa.exists(sa.select(sa.literal(1)).select_from(context))]
        planned_outage_id: sa.ColumnElement[Any] = sa.null()
        if by_area:
            area = sa.bindparam("match_area_code", type_=tickets.c.area_code.type)
            planned = in_effect_over(area, values["recorded_at"]).cte("planned")
            unless.append(~sa.exists(sa.select(planned.c.id)))
            planned_outage_id = sa.select(planned.c.id).scalar_subquery()
        new = sa.select(*values.values(), TicketRepository._number()).where(*unless)
        inserted = (
            tickets.insert()
            .from_select([*TicketRepository._COLUMNS, "no"], new)
            .returning(tickets.c.no)
            .cte("inserted")
        )
        reserved = (
            sa.select(TicketRepository._number().label("no"))
            .where(~sa.exists(sa.select(inserted.c.no)))
            .cte("reserved")
        )
        one = sa.select(sa.literal(1).label("one")).subquery("one")
        return (
            sa.select(
                sa.select(inserted.c.no).scalar_subquery().label("inserted_no"),
                sa.select(reserved.c.no).scalar_subquery().label("reserved_no"),
                planned_outage_id.label("planned_outage_id"),
                *context.c,
            )
            .select_from(one.outerjoin(context, sa.true()))
            .order_by(context.c.kind, context.c.sort_at)
        )

    def add_at_commit(self, ticket: Ticket, uow: UnitOfWork, *, tz: str | None = None) -> None:
        """Insert a ticket numbered already (RepairContext.ticket_no) at commit, riding on the
        unit of work's last statement (UnitOfWork.ride): a repeat call's consultation, which
        cost a round trip of its own. Noted for the audit trail here, as it is written."""
        params = self._params(ticket, tz)
        del params["business_day"]
        row = {**params, "no": ticket.no}
        uow.insert_at_commit(tickets, row)
        note_insert(self.session, "tickets", [row])

    async def save(self, ticket: Ticket) -> None:
        await self.session.execute(
            tickets.update().where(tickets.c.id == ticket.id).values(**self._columns(ticket))
        )

    @staticmethod
    def _from_row(row) -> Ticket:
        return Ticket(
            id=row.id,
            no=row.no,
            type=row.type,
            status=row.status,
            recorded_at=row.recorded_at,
            first_ask_owner=row.first_ask_owner,
            description=row.description,
            details=row.details,
            owner=row.owner,
            completed_at=row.completed_at,
            completed_by=row.completed_by,
        )

    async def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
        query = sa.select(tickets).where(tickets.c.id == ticket_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return None if row is None else self._from_row(row)

    async def list(
        self,
        *,
        owner: str | None = None,
        open_only: bool = False,
        phone: str | None = None,
        customer_ids: list[str] | None = None,
        since: datetime | None = None,
        for_update: bool = False,
        limit: int = 200,
    ) -> list[Ticket]:
        query = sa.select(tickets).order_by(tickets.c.recorded_at.desc()).limit(limit)
        if owner is not None:
            query = query.where(tickets.c.owner == owner)
        if open_only:
            query = query.where(tickets.c.status.in_([written(s) for s in OPEN_STATUSES]))
        if phone is not None or customer_ids:
            who = []
            if phone is not None:
                who.append(tickets.c.phone == phone)
            if customer_ids:
                who.append(tickets.c.customer_id.in_(customer_ids))
            query = query.where(sa.or_(*who))
        if since is not None:
            query = query.where(tickets.c.recorded_at >= since)
        if for_update:
            query = query.with_for_update()
        return [self._from_row(r) for r in (await self.session.execute(query)).all()]

    @staticmethod
    def _context_of(
        rows: Sequence[Any],
    ) -> tuple[builtins.list[OpenRepair], builtins.list[ActiveOutage]]:
        """_context()'s rows (kind "repair" or "outage"; a row of NULLs is neither) as what
        repeat-call linking reads."""
        repairs = [
            OpenRepair(
                ticket_id=r.id,
                ticket_no=r.no,
                address_key=r.address_key,
                meter_no=r.meter_no,
                area_code=r.area_code,
                progress=r.progress,
                expected_restore_at=r.expected_restore_at,
                incident_id=r.incident_id,
                arrive_by=r.arrive_by,
                outage_status=r.outage_status,
                area_name=(r.area_names or [None])[0],
            )
            for r in rows
            if r.kind == "repair"
        ]
        active_outages = [
            ActiveOutage(
                r.incident_id,
                tuple(r.area_codes),
                r.expected_restore_at,
                r.cause,
                covers_meter=True,
                area_names=tuple(r.area_names or ()),
                status=r.outage_status,
            )
            for r in rows
            if r.kind == "outage"
        ]
        return repairs, active_outages

    @staticmethod
    @cache
    def _context(
        by_address: bool, by_meter: bool
    ) -> sa.Select[*tuple[Any, ...]] | sa.CompoundSelect[*tuple[Any, ...]]:
        """What is already being handled at a repair call's address or meter, unordered, `match_address_key` and `match_meter_no` bound
        (named apart from the ticket's own columns of an INSERT that embeds them): built once
        per shape, i.e. which of the two the call gave."""
        address_key_ = sa.bindparam("match_address_key", type_=tickets.c.address_key.type)
        meter_no = sa.bindparam("match_meter_no", type_=tickets.c.meter_no.type)

        def none(column: sa.Column) -> sa.ColumnElement:
            return sa.cast(sa.null(), column.type).label(column.name)

        # Rows of both kinds share one shape; `sort_at` orders each kind as its own query would.
        query: sa.Select[*tuple[Any, ...]] | sa.CompoundSelect[*tuple[Any, ...]] = sa.select(
            sa.literal("outage").label("kind"),
            outages.c.declared_at.label("sort_at"),
            none(tickets.c.id),
            none(tickets.c.no),
            none(tickets.c.address_key),
            none(tickets.c.meter_no),
            none(tickets.c.area_code),
            sa.cast(sa.null(), work_orders.c.status.type).label("progress"),
            outages.c.incident_id,
            outages.c.area_codes,
            outages.c.expected_restore_at,
            outages.c.cause,
            outages.c.area_names,
            outages.c.status.label("outage_status"),
            sa.cast(sa.null(), work_orders.c.arrive_by.type).label("arrive_by"),
        ).where(
            # Active outages as the GIN indexes' predicate is written (ix_outages_active_*, 0012).
            outages.c.active,
            # Only incidents whose equipment feeds the caller's meter: never a whole area.
            outages.c.meter_nos.contains(sa.func.jsonb_build_array(meter_no))
            if by_meter
            else sa.false(),
        )
        match = ([tickets.c.address_key == address_key_] if by_address else []) + (
            [tickets.c.meter_no == meter_no] if by_meter else []
        )
        if match:
            latest_order = (
                sa.select(work_orders.c.status, work_orders.c.arrive_by)
                .where(work_orders.c.ticket_id == tickets.c.id)
                .order_by(work_orders.c.updated_at.desc())
                .limit(1)
                .lateral("latest_order")
            )
            held_by = (
                sa.select(
                    outages.c.incident_id,
                    outages.c.expected_restore_at,
                    outages.c.area_names,
                    outages.c.status,
                )
                .where(
                    outages.c.active,  # the index's predicate as written (ix_outages_active_*)
                    outages.c.ticket_ids.contains(sa.func.jsonb_build_array(tickets.c.id)),
                )
                .limit(1)
                .lateral("held_by")
            )
            open_repairs = (
                sa.select(
                    sa.literal("repair").label("kind"),
                    tickets.c.recorded_at.label("sort_at"),
                    tickets.c.id,
                    tickets.c.no,
                    tickets.c.address_key,
                    tickets.c.meter_no,
                    tickets.c.area_code,
                    sa.func.coalesce(latest_order.c.status, "recorded").label("progress"),
                    held_by.c.incident_id,
                    none(outages.c.area_codes),
                    held_by.c.expected_restore_at,
                    none(outages.c.cause),
                    held_by.c.area_names,
                    held_by.c.status.label("outage_status"),
                    latest_order.c.arrive_by,
                )
                .select_from(
                    tickets.outerjoin(latest_order, sa.true()).outerjoin(held_by, sa.true())
                )
                .where(
                    tickets.c.type == "repair",
                    tickets.c.closed.is_(False),
                    sa.or_(*match),
                    sa.or_(
                        latest_order.c.status.is_(None),
                        latest_order.c.status.not_in(_FINISHED_ORDER_STATES),
                    ),
                )
            )
            query = sa.union_all(query, open_repairs)
        return query

    async def lock_address(self, address: str | None, meter_no: str | None) -> None:
        """Serialise repair intake per address, so two simultaneous calls cannot both open a repair."""
        key = address_key(address) or meter_no
        if key:
            await idempotency.claimed(
                self.session, _CLAIM_AND_LOCK, _LOCK_ADDRESS, {"lock_key": key}
            )

    async def lock_address_of(
        self, address: str | None, meter_no: str | None, customer_id: str | None
    ) -> tuple[str | None, str | None]:
        """lock_address(), and the area code and meter number of the customer record named
        (Nones without one), in one statement when the address gives the lock its key. The
        record is not what the lock guards: reading it on the snapshot taken before the lock is
        held changes nothing."""
        key = address_key(address)
        if key and customer_id:
            row = await idempotency.claimed(
                self.session,
                _CLAIM_LOCK_AND_CUSTOMER,
                _LOCK_ADDRESS_AND_CUSTOMER,
                {"lock_key": key, "customer_id": customer_id},
            )
            return row.area_code, row.meter_no
        customer = await DirectoryRepository(self.session).get(customer_id) if customer_id else None
        area_code, customer_meter = (
            (customer.area_code, customer.meter_no) if customer is not None else (None, None)
        )
        await self.lock_address(address, meter_no or customer_meter)
        return area_code, customer_meter

    async def close_linked(self, ticket_id: str, at: datetime) -> None:
        """A repeat-call consultation closes with the work it was linked to (dispatch said so)."""
        await self.session.execute(
            tickets.update()
            .where(
                tickets.c.id == ticket_id,
                tickets.c.type == "consultation",
                tickets.c.closed.is_(False),
            )
            .values(closed=True, status="completed", completed_at=at, completed_by="dispatch")
        )

    async def reopen_for_work(self, ticket_id: str) -> None:
        """Dispatch reopened the repair (an unsatisfied callback, or a return sent back at its
        review): it is being handled again."""
        await self.session.execute(
            tickets.update()
            .where(tickets.c.id == ticket_id, tickets.c.closed.is_(True))
            .values(closed=False, status="reopened", completed_at=None, completed_by=None)
        )

    async def close_repair(self, ticket_id: str) -> None:
        await self.session.execute(
            tickets.update()
            .where(
                tickets.c.id == ticket_id, tickets.c.type == "repair", tickets.c.closed.is_(False)
            )
            .values(closed=True, status="resolved")
        )


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_event_once(
        self, call_id: str, event: str, switch_time: datetime, received_at: datetime, body: dict
    ) -> bool:
        """True the first time (call id, event) is seen; False for a duplicate."""
        inserted = await self.session.scalar(
            insert(call_events)
            .values(
                call_id=call_id,
                event=event,
                switch_time=switch_time,
                received_at=received_at,
                body=body,
            )
            .on_conflict_do_nothing()
            .returning(call_events.c.call_id)
        )
        return inserted is not None

    async def get_for_update(self, call_id: str, now: datetime) -> CallRecord:
        await self.session.execute(
            insert(calls)
            .values(call_id=call_id, state="ringing", first_seen_at=now)
            .on_conflict_do_nothing()
        )
        row = (
            await self.session.execute(
                sa.select(calls).where(calls.c.call_id == call_id).with_for_update()
            )
        ).one()
        seen = set(
            (
                await self.session.scalars(
                    sa.select(call_events.c.event).where(call_events.c.call_id == call_id)
                )
            ).all()
        )
        record = CallRecord(
            call_id=row.call_id,
            first_seen_at=row.first_seen_at,
            state=row.state,
            caller_number=row.caller_number,
            called_number=row.called_number,
            queue=row.queue,
            agent_extension=row.agent_extension,
            agent_id=row.agent_id,
            rang_at=row.rang_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            end_cause=row.end_cause,
        )
        record.seen = seen
        return record

    async def get(self, call_id: str):
        return (
            await self.session.execute(sa.select(calls).where(calls.c.call_id == call_id))
        ).first()

    async def save(self, call: CallRecord) -> None:
        await self.session.execute(
            calls.update()
            .where(calls.c.call_id == call.call_id)
            .values(
                state=call.state,
                caller_number=call.caller_number,
                called_number=call.called_number,
                queue=call.queue,
                agent_extension=call.agent_extension,
                agent_id=call.agent_id,
                rang_at=call.rang_at,
                answered_at=call.answered_at,
                ended_at=call.ended_at,
                end_cause=call.end_cause,
                answer_delay_seconds=call.answer_delay_seconds,
            )
        )

    async def quiet_since_before(
        self, ringing_cutoff: datetime, talking_cutoff: datetime, limit: int
    ) -> list[str]:
        """Calls still ringing that intake first heard of before `ringing_cutoff`, and calls
        answered before `talking_cutoff` and not ended, oldest first, up to `limit` of each
        (partial indexes of ringing and of answered calls: a handful each, however many calls
        the table holds)."""
        ringing = (
            sa.select(calls.c.call_id)
            .where(calls.c.state == written("ringing"), calls.c.first_seen_at < ringing_cutoff)
            .order_by(calls.c.first_seen_at)
            .limit(limit)
        )
        talking = (
            sa.select(calls.c.call_id)
            .where(calls.c.state == written("answered"), calls.c.answered_at < talking_cutoff)
            .order_by(calls.c.answered_at)
            .limit(limit)
        )
        return list(await self.session.scalars(sa.union_all(ringing, talking)))

    async def other_calls_from(self, number: str, since: datetime, exclude: str | None) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(calls)
            .where(calls.c.caller_number == number, calls.c.first_seen_at >= since)
        )
        if exclude:
            query = query.where(calls.c.call_id != exclude)
        return await self.session.scalar(query) or 0  # count() always answers


class DirectoryRepository:
    """The customer directory (filled by the customer system's import) and number flags."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, customer: dict, now: datetime) -> None:
        values = dict(
            customer_id=customer["customer_id"],
            name=customer.get("name"),
            address=customer.get("address"),
            address_key=address_key(customer.get("address")),
            area_code=customer.get("area_code"),
            meter_no=customer.get("meter_no"),
            sensitive=bool(customer.get("sensitive")),
            updated_at=now,
        )
        stmt = insert(customers).values(**values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[customers.c.customer_id],
                set_={k: stmt.excluded[k] for k in values if k != "customer_id"},
            )
        )
        await self.session.execute(
            customer_phones.delete().where(customer_phones.c.customer_id == values["customer_id"])
        )
        # Kept normalised: by_phone compares a caller's number in the same form.
        phones = sorted({n for p in customer.get("phones") or () if (n := normalise_phone(p))})
        if phones:
            await self.session.execute(
                insert(customer_phones)
                .values([{"phone": p, "customer_id": values["customer_id"]} for p in phones])
                .on_conflict_do_nothing()
            )

    async def by_phone(self, phone: str) -> list:
        """The customers of a number however it is written ("+86 138-1111-0002" is the
        directory's 13811110002)."""
        if (normalised := normalise_phone(phone)) is None:
            return []
        return list(
            (
                await self.session.execute(
                    sa.select(customers)
                    .join(customer_phones, customer_phones.c.customer_id == customers.c.customer_id)
                    .where(customer_phones.c.phone == normalised)
                    .order_by(customers.c.customer_id)
                )
            ).all()
        )

    async def get(self, customer_id: str):
        return (
            await self.session.execute(
                sa.select(customers).where(customers.c.customer_id == customer_id)
            )
        ).first()

    async def search(self, text: str, limit: int) -> list:
        """Customers whose account number is `text`, or whose name or address holds it (an
        unknown caller tells the agent one of the three)."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return list(
            (
                await self.session.execute(
                    sa.select(customers)
                    .where(
                        sa.or_(
                            customers.c.customer_id == text,
                            customers.c.name.ilike(pattern, escape="\\"),
                            customers.c.address.ilike(pattern, escape="\\"),
                        )
                    )
                    .order_by(customers.c.name, customers.c.customer_id)
                    .limit(limit)
                )
            ).all()
        )

    async def phones_of(self, customer_ids: list[str]) -> dict[str, list[str]]:
        rows = await self.session.execute(
            sa.select(customer_phones.c.customer_id, customer_phones.c.phone)
            .where(customer_phones.c.customer_id.in_(customer_ids))
            .order_by(customer_phones.c.phone)
        )
        phones: dict[str, list[str]] = {}
        for customer_id, phone in rows:
            phones.setdefault(customer_id, []).append(phone)
        return phones

    async def mark_harassing(
        self, phone: str, by: str, at: datetime, escalation_id: str | None
    ) -> None:
        stmt = insert(number_flags).values(
            phone=phone, harassing=True, marked_by=by, marked_at=at, escalation_id=escalation_id
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[number_flags.c.phone],
                set_={
                    "harassing": True,
                    "marked_by": by,
                    "marked_at": at,
                    "escalation_id": escalation_id,
                },
            )
        )

    async def flag(self, phone: str):
        return (
            await self.session.execute(sa.select(number_flags).where(number_flags.c.phone == phone))
        ).first()


class OutageRepository:
    """Outages and work orders as dispatch announces them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def declare(self, p) -> None:
        stmt = insert(outages).values(
            incident_id=p.incident_id,
            unit_id=p.unit_id,
            area_codes=list(p.area_codes),
            area_names=list(p.area_names),
            meter_nos=list(p.meter_nos),
            status=p.status,
            ticket_ids=[],
            expected_restore_at=p.expected_restore_at,
            declared_at=p.declared_at,
            active=True,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[outages.c.incident_id],
                set_={
                    "unit_id": p.unit_id,
                    "area_codes": list(p.area_codes),
                    "area_names": list(p.area_names),
                    "meter_nos": list(p.meter_nos),
                    "status": sa.func.coalesce(outages.c.status, p.status),
                    "declared_at": p.declared_at,
                    "expected_restore_at": sa.func.coalesce(
                        outages.c.expected_restore_at, p.expected_restore_at
                    ),
                },
            )
        )

    async def restore(self, p) -> None:
        stmt = insert(outages).values(
            incident_id=p.incident_id,
            area_codes=[],
            ticket_ids=list(p.ticket_ids),
            restored_at=p.restored_at,
            active=False,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[outages.c.incident_id],
                set_={"active": False, "restored_at": p.restored_at, "status": "restored"},
            )
        )

    async def cancel(self, p) -> None:
        stmt = insert(outages).values(
            incident_id=p.incident_id,
            area_codes=[],
            ticket_ids=list(p.ticket_ids),
            active=False,
            status="cancelled",
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[outages.c.incident_id],
                set_={"active": False, "status": "cancelled"},
            )
        )

    async def active(self) -> list[ActiveOutage]:
        rows = (
            await self.session.execute(
                sa.select(outages).where(outages.c.active).order_by(outages.c.declared_at)
            )
        ).all()
        return [
            ActiveOutage(
                r.incident_id,
                tuple(r.area_codes),
                r.expected_restore_at,
                r.cause,
                area_names=tuple(r.area_names or ()),
                status=r.status,
            )
            for r in rows
        ]


def riding_work_orders(fold: WorkOrderFold) -> Riding | None:
    """A batch's work-order events, riding on the commit's last statement (UnitOfWork.ride): no
    round trip of their own. The audit trail has each event's row already (audit.note_insert as
    it was gathered)."""
    if not (rows := fold.rows()):
        return None
    return (ORDERS_SEEN_RIDING,), {"orders": jsontext.dumps_rows(rows).decode()}


# The batch's orders, one folded row each (domain.work_orders), as one JSON array parameter:
# one text whatever the batch holds, compiled and prepared once. A new order is inserted as its
# events left it one by one; a stored one takes the latest event's status and time, and its
# crew, where the stored row is not later than them (the upsert's rule, event by event), and
# the batch's last arrival deadline whatever its time. The seen_* columns are not the table's
# (EXCLUDED has none of them): the conflict branch looks them up by key in the batch made a
# JSON object once (a scan of the batch per stored order, twice, read the square of the
# batch's orders). In key order: concurrent batches lock the orders they share in one order,
# never deadlocking.
_SEEN_COLUMNS = ", ".join(
    f"{name} {kind}"
    for name, kind in (
        ("work_order_id", "text"),
        ("ticket_id", "text"),
        ("unit_id", "text"),
        ("status", "text"),
        ("crew_id", "text"),
        ("updated_at", "timestamptz"),
        ("arrive_by", "timestamptz"),
        ("seen_status", "text"),
        ("seen_at", "timestamptz"),
        ("seen_crew", "text"),
        ("crew_at", "timestamptz"),
    )
)
_TABLE_COLUMNS = ", ".join(work_orders.c.keys())
_SEEN_BY_KEY = "FROM (SELECT b.seen -> EXCLUDED.work_order_id AS k FROM by_key b) AS f"
ORDERS_SEEN = sa.text(
    f"""
WITH seen AS MATERIALIZED (
SELECT * FROM jsonb_to_recordset(CAST(CAST(:orders AS text) AS jsonb)) AS s({_SEEN_COLUMNS})
), by_key AS MATERIALIZED (
SELECT jsonb_object_agg(s.work_order_id, to_jsonb(s)) AS seen FROM seen s
)
INSERT INTO work_orders AS w ({_TABLE_COLUMNS})
SELECT {_TABLE_COLUMNS} FROM seen ORDER BY work_order_id
ON CONFLICT (work_order_id) DO UPDATE SET
(status, updated_at, crew_id) = (
    SELECT CASE WHEN w.updated_at <= CAST(f.k ->> 'seen_at' AS timestamptz)
                THEN f.k ->> 'seen_status' ELSE w.status END,
           GREATEST(w.updated_at, CAST(f.k ->> 'seen_at' AS timestamptz)),
           CASE WHEN w.updated_at <= CAST(f.k ->> 'crew_at' AS timestamptz)
                THEN f.k ->> 'seen_crew' ELSE w.crew_id END
    {_SEEN_BY_KEY}
),
arrive_by = COALESCE(EXCLUDED.arrive_by, w.arrive_by)
WHERE EXCLUDED.arrive_by IS NOT NULL
   OR w.updated_at <= (SELECT CAST(f.k ->> 'seen_at' AS timestamptz) {_SEEN_BY_KEY})
"""
)
ORDERS_SEEN_RIDING = (
    sa.text(f"{ORDERS_SEEN.text}RETURNING 1 AS one")
    .columns(sa.column("one"))
    .cte("intake_work_orders")
)


async def write_outage_updates(session: AsyncSession, fold: OutageUpdateFold) -> None:
    """A batch's outage updates, one folded row per incident, in one round trip
    (UnitOfWork.defer; also before another statement on outages, so that it applies after
    them). On the session's connection, not through the ORM's execute: the audit trail has
    each update's row already (audit.note_insert as it was gathered)."""
    if rows := fold.take():
        connection = await session.connection()
        await connection.execute(
            OUTAGES_UPDATED,
            {"incidents": jsontext.dumps_rows(rows).decode()},
        )


# The batch's incidents, one folded row each (domain.outage_updates), as one JSON array
# parameter: one text whatever the batch holds. An incident not seen yet is inserted as its
# updates left it. A stored one takes the union of its tickets and the row's, sorted by code
# point (as Python's sorted: the "C" collation), made by the database: reading a storm
# incident's thousands of tickets and writing them back made each update cost its incident's
# size, twice more in the audit trail's images of the row before and after. A status or cause
# the row names ("" names none), and a restoration, replace the stored ones. In key order:
# concurrent batches lock the incidents they share in one order, never deadlocking.
OUTAGES_UPDATED = sa.text(
    """
INSERT INTO outages AS o
    (incident_id, area_codes, ticket_ids, expected_restore_at, cause, status, active)
SELECT u.incident_id, '[]'::jsonb, u.ticket_ids, u.expected_restore_at, u.cause, u.status, true
FROM jsonb_to_recordset(CAST(CAST(:incidents AS text) AS jsonb)) AS u(
    incident_id text, ticket_ids jsonb, expected_restore_at timestamptz, cause text, status text
)
ORDER BY u.incident_id
ON CONFLICT (incident_id) DO UPDATE SET
ticket_ids = (
    SELECT COALESCE(jsonb_agg(DISTINCT t.id COLLATE "C" ORDER BY t.id COLLATE "C"), '[]')
    FROM jsonb_array_elements_text(o.ticket_ids || EXCLUDED.ticket_ids) AS t(id)
),
status = COALESCE(NULLIF(EXCLUDED.status, ''), o.status),
expected_restore_at = COALESCE(EXCLUDED.expected_restore_at, o.expected_restore_at),
cause = COALESCE(NULLIF(EXCLUDED.cause, ''), o.cause)
"""
)


class EscalationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values) -> None:
        await self.session.execute(escalations.insert().values(**values))

    async def get(self, escalation_id: str, *, for_update: bool = False):
        query = sa.select(escalations).where(escalations.c.id == escalation_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).first()

    async def resolve(
        self,
        escalation_id: str,
        status: str,
        supervisor_id: str,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        await self.session.execute(
            escalations.update()
            .where(escalations.c.id == escalation_id)
            .values(
                status=status,
                supervisor_id=supervisor_id,
                resolved_at=at,
                resolution_reason=reason,
            )
        )

    async def queue(self, statuses: tuple[str, ...]) -> list:
        return list(
            (
                await self.session.execute(
                    sa.select(escalations)
                    .where(escalations.c.status.in_(statuses))
                    .order_by(escalations.c.requested_at)
                )
            ).all()
        )


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        ticket_id: str | None = None,
        escalation_id: str | None = None,
        **details,
    ) -> None:
        await self.session.execute(
            audit_log.insert().values(
                at=at,
                actor=actor,
                action=action,
                ticket_id=ticket_id,
                escalation_id=escalation_id,
                details=details,
            )
        )

    async def query(
        self,
        *,
        ticket_id: str | None = None,
        escalation_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 200,
    ) -> list:
        query = sa.select(audit_log).order_by(audit_log.c.id).limit(limit)
        for col, value in (
            (audit_log.c.ticket_id, ticket_id),
            (audit_log.c.escalation_id, escalation_id),
            (audit_log.c.actor, actor),
            (audit_log.c.action, action),
        ):
            if value is not None:
                query = query.where(col == value)
        return list((await self.session.execute(query)).all())
