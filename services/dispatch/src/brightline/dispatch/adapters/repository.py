"""Work orders, crews, topology and incidents in Postgres."""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from brightline.contracts import jsontext
from brightline.dispatch.adapters.orm import (
    attachments,
    crew_members,
    crew_shifts,
    crews,
    incident_links,
    incidents,
    meters,
    service_areas,
    transformers,
    units,
    work_order_history,
    work_orders,
)
from brightline.dispatch.domain.model import (
    INCIDENT_OPEN,
    OPEN_STATUSES,
    ClusterKey,
    CrewState,
    OpenIncident,
    ServiceArea,
    Shift,
    StatusFilter,
    WorkOrder,
)
from brightline.messaging.audit import RIDING
from brightline.messaging.unit_of_work import Riding
from brightline.platform.db import rows_affected, written

ORDER_FIELDS = (
    "unit_id",
    "area_class",
    "status",
    "crew_id",
    "incident_id",
    "is_lead",
    "latitude",
    "longitude",
    "meter_no",
    "accept_by",
    "updated_at",
    "cause",
    "notes",
    "resolution",
    "returned_at",
    "address",
    "description",
    "reported_at",
    "reopened_from",
    "needs_routing",
    "cancel_reason",
    "ticket_no",
    "caller_name",
    "phone",
    "area_code",
    "fault_scope",
    "fault_started_at",
    "arrive_by",
    "reviewed_at",
    "reviewed_by",
    "sent_back_reason",
    "cancel_requested_at",
    "cancel_requested_by",
    "cancel_refused_reason",
)


def history_row(
    *,
    order: WorkOrder,
    status: str,
    previous_status: str,
    at: datetime,
    recorded_at: datetime,
    actor: str | None,
    reason: str | None,
    latitude: float | None,
    longitude: float | None,
) -> dict[str, Any]:
    return {
        "work_order_id": order.id,
        "status": status,
        "previous_status": previous_status,
        "crew_id": order.crew_id,
        "actor": actor,
        "reason": reason,
        "at": at,
        "recorded_at": recorded_at,
        "latitude": latitude,
        "longitude": longitude,
    }


def order_row(order: WorkOrder) -> dict[str, Any]:
    """The new order's row as inserted (NEW_ORDER_COLUMNS)."""
    return {
        "id": order.id,
        "ticket_id": order.ticket_id,
        "created_at": order.created_at,
        **{f: getattr(order, f) for f in ORDER_FIELDS},
    }


# A new order riding on its first history row's INSERT as a data-modifying CTE, its values bound
# to parameters riding_work_orders_<column> (the audit trail reads them there:
# brightline.messaging.audit._riding_inserts). The order rides, not the history row: the outer
# INSERT takes the columns it is executed with, and a history row riding on the order's INSERT
# would be given the order's id.
ORDER_RIDING = f"{RIDING}{work_orders.name}_"
_HISTORY_WITH_ORDER = work_order_history.insert().add_cte(
    work_orders.insert()
    .values({c.name: sa.bindparam(ORDER_RIDING + c.name, type_=c.type) for c in work_orders.c})
    .returning(work_orders.c.id)
    .cte(f"{RIDING}{work_orders.name}")
)

# A consumer batch's new orders and their first history rows, written before a handler reads
# the table (handlers.written_new_orders), as two JSON array parameters: one text whatever the
# batch holds, compiled and prepared once. The history rows in the array's order (their ids as
# one by one); a data-modifying CTE runs whether or not the statement reads it.
NEW_ORDER_COLUMNS = ("id", "ticket_id", "created_at", *ORDER_FIELDS)
HISTORY_COLUMNS = tuple(c.name for c in work_order_history.c if c.name != "id")


def _from_json(table: sa.Table, parameter: str, columns: Iterable[str]) -> str:
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM jsonb_populate_recordset("
        f"NULL::{table.name}, CAST(CAST(:{parameter} AS text) AS jsonb)) WITH ORDINALITY AS r "
        "ORDER BY r.ordinality"
    )


_NEW_ORDERS = sa.text(
    f"WITH new_orders AS ({_from_json(work_orders, 'orders', NEW_ORDER_COLUMNS)}) "
    + _from_json(work_order_history, "history", HISTORY_COLUMNS)
)

# The same rows riding on the commit's last statement instead (UnitOfWork.ride): two
# data-modifying CTEs, the order before its history rows as in _NEW_ORDERS (the history's
# foreign key is checked when the statement ends, with both written).
_RIDING_ORDERS = (
    sa.text(_from_json(work_orders, "new_orders", NEW_ORDER_COLUMNS) + " RETURNING 1 AS one")
    .columns(sa.column("one"))
    .cte("dispatch_new_orders")
)
_RIDING_HISTORY = (
    sa.text(
        _from_json(work_order_history, "new_orders_history", HISTORY_COLUMNS)
        + " RETURNING 1 AS one"
    )
    .columns(sa.column("one"))
    .cte("dispatch_new_orders_history")
)


def riding_new_orders(orders: list[dict[str, Any]], history: list[dict[str, Any]]) -> Riding:
    """New orders (order_row) and their history rows (history_row) riding on the commit's last
    statement: no round trip of their own. The audit trail has each event's rows already."""
    return (_RIDING_ORDERS, _RIDING_HISTORY), {
        "new_orders": jsontext.dumps_rows(orders).decode(),
        "new_orders_history": jsontext.dumps_rows(history).decode(),
    }


_NEW_LINKS = sa.text(
    _from_json(incident_links, "links", incident_links.c.keys())
    + " ON CONFLICT (ticket_id) DO NOTHING"
)

# Statements of every repair's path, built once and executed with parameters: building one
# costs more CPU than its round trip (and a fresh cache key per execution), and the audit trail
# joins an UPDATE built once to its rows before once (brightline.messaging.audit._joined).
# The arrival deadlines of a consumer's batch in one statement whose text does not depend on
# how many (the ids and the times as two arrays, unnested side by side): compiled once.
_ARRIVALS = (
    sa.func.unnest(
        sa.bindparam("order_ids", type_=ARRAY(work_orders.c.id.type)),
        sa.bindparam("due_ats", type_=ARRAY(work_orders.c.arrive_by.type)),
    )
    .table_valued(
        sa.column("order_id", work_orders.c.id.type),
        sa.column("due_at", work_orders.c.arrive_by.type),
    )
    .render_derived(name="arrival")
)
_SET_ARRIVE_BY = (
    work_orders.update()
    .where(work_orders.c.id == _ARRIVALS.c.order_id)
    .values(arrive_by=_ARRIVALS.c.due_at)
)


# Every step of an order (a crew's five, a reassignment, a cancellation) saves it whole. The
# binds are named apart from the columns: a bind named as a column of the updated table is
# SQLAlchemy's own.
SAVED = "saved_"
_SAVE = (
    work_orders.update()
    .where(work_orders.c.id == sa.bindparam("order_id"))
    .values({f: sa.bindparam(SAVED + f, type_=work_orders.c[f].type) for f in ORDER_FIELDS})
)


class WorkOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, order: WorkOrder, *, history: dict[str, Any] | None = None) -> None:
        """The new order; with `history` (a history_row), its first history row riding on the
        INSERT as a data-modifying CTE: both in one round trip."""
        # The row as the execution's parameters, not the statement's VALUES: the statement is
        # then one cached text, and the audit trail takes the row from them (for VALUES it
        # compiles the statement again to read them back).
        row = order_row(order)
        if history is None:
            await self.session.execute(work_orders.insert(), row)
            return
        riding = {ORDER_RIDING + k: v for k, v in row.items()}
        await self.session.execute(_HISTORY_WITH_ORDER, history | riding)

    async def add_many(self, orders: list[dict[str, Any]], history: list[dict[str, Any]]) -> None:
        """New orders (order_row) and their history rows (history_row), in one round trip. On
        the session's connection, not through the ORM's execute: the audit trail has each
        event's rows already (audit.note_insert as they were gathered)."""
        connection = await self.session.connection()
        await connection.execute(
            _NEW_ORDERS,
            {
                "orders": jsontext.dumps_rows(orders).decode(),
                "history": jsontext.dumps_rows(history).decode(),
            },
        )

    async def save(self, order: WorkOrder) -> None:
        await self.session.execute(
            _SAVE, {"order_id": order.id, **{SAVED + f: getattr(order, f) for f in ORDER_FIELDS}}
        )

    async def ticket_state(self, ticket_id: str) -> tuple[str | None, bool]:
        """In one round trip: the id of the ticket's latest order, and whether links wait for
        an order of this ticket (repeat calls that came before it, see attach_pending)."""
        row = (await self.session.execute(_TICKET_STATE, {"ticket_id": ticket_id})).one()
        return row[0], bool(row[1])

    async def ticket_state_and_crews(
        self, ticket_id: str, unit_id: str
    ) -> tuple[str | None, bool, list[CrewState]]:
        """ticket_state and the unit's crews (CrewRepository.states) in one round trip: for an
        order known to need a crew before anything is read (an ordinary repair)."""
        rows = (
            await self.session.execute(
                _TICKET_STATE_AND_CREWS, {"ticket_id": ticket_id, "unit_id": unit_id}
            )
        ).all()
        return rows[0].existing_id, bool(rows[0].links_waiting), _crew_states(rows)

    async def read_ahead(
        self, ticket_ids: list[str], unit_ids: list[str]
    ) -> tuple[set[str], set[str], dict[str, list[CrewState]]]:
        """For a consumer batch's new repairs, in one round trip: which tickets have an order
        already, which have links waiting for one (ticket_state's questions), and each unit's
        crews (CrewRepository.states; a unit without crews has an empty list)."""
        rows = (
            await self.session.execute(
                _READ_AHEAD, {"ticket_ids": ticket_ids, "unit_ids": unit_ids}
            )
        ).all()
        crews: dict[str, list[CrewState]] = {unit: [] for unit in unit_ids}
        for crew in _crew_states(rows):
            crews[crew.unit_id].append(crew)
        return set(rows[0].ordered or ()), set(rows[0].waiting or ()), crews

    async def for_ticket(self, ticket_id: str) -> WorkOrder | None:
        """The ticket's latest order (a reopened repair has several)."""
        row = (
            await self.session.execute(
                sa.select(work_orders)
                .where(work_orders.c.ticket_id == ticket_id)
                .order_by(work_orders.c.created_at.desc())
                .limit(1)
            )
        ).first()
        return _order(row) if row else None

    async def all_for_ticket(self, ticket_id: str) -> list[WorkOrder]:
        rows = (
            await self.session.execute(
                sa.select(work_orders)
                .where(work_orders.c.ticket_id == ticket_id)
                .order_by(work_orders.c.created_at.desc())
            )
        ).all()
        return [_order(r) for r in rows]

    async def set_arrive_by(self, due_at: dict[str, datetime]) -> None:
        """Each order's arrival deadline (by order id), in one round trip. On the session's
        connection, not through the ORM's execute: the audit trail has each event's change
        already (audit.note_update as it was gathered)."""
        connection = await self.session.connection()
        await connection.execute(
            _SET_ARRIVE_BY, {"order_ids": list(due_at), "due_ats": list(due_at.values())}
        )

    async def _count(self, query: sa.Select[int]) -> int:
        return await self.session.scalar(query) or 0  # count() always answers; None never comes

    async def count_needing_routing(self) -> int:
        return await self._count(
            sa.select(sa.func.count())
            .select_from(work_orders)
            # the partial index's predicate as it is written (ix_work_orders_needs_routing)
            .where(work_orders.c.needs_routing, work_orders.c.status.in_(OPEN_STATUSES))
        )

    async def backlog(
        self, queue: Literal["awaiting_review", "cancel_requested"]
    ) -> tuple[int, datetime | None]:
        """A queue waiting for the duty dispatcher (the returns waiting for review, the crews'
        requests to cancel): how many, and since when the oldest has waited."""
        since = (
            work_orders.c.returned_at
            if queue == "awaiting_review"
            else work_orders.c.cancel_requested_at
        )
        row = (
            await self.session.execute(
                sa.select(sa.func.count(), sa.func.min(since)).where(*_status_is(queue))
            )
        ).one()
        return row[0], row[1]

    async def area_name(self, area_code: str | None) -> str | None:
        if not area_code:
            return None
        return await self.session.scalar(
            sa.select(service_areas.c.name).where(service_areas.c.area_code == area_code)
        )

    async def get(self, order_id: str, *, for_update: bool = False) -> WorkOrder | None:
        query = sa.select(work_orders).where(work_orders.c.id == order_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _order(row) if row else None

    async def search(
        self,
        *,
        status: StatusFilter | None = None,
        unit_id: str | None = None,
        crew_id: str | None = None,
        incident_id: str | None = None,
        needs_routing: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[WorkOrder]:
        query = sa.select(work_orders).where(*_status_is(status))
        if status == "open":
            # Most urgent first, the way ix_work_orders_open_by_arrival holds them: a storm's
            # open orders never drop off the board behind the ones already finished.
            query = query.order_by(
                work_orders.c.arrive_by.asc().nulls_last(), work_orders.c.created_at
            )
        elif status == "awaiting_review":
            # Waiting longest first, as ix_work_orders_awaiting_review holds them.
            query = query.order_by(work_orders.c.returned_at, work_orders.c.id)
        elif status == "cancel_requested":
            query = query.order_by(work_orders.c.cancel_requested_at, work_orders.c.id)
        else:
            query = query.order_by(work_orders.c.created_at.desc(), work_orders.c.id)
        if needs_routing is not None:
            query = query.where(work_orders.c.needs_routing.is_(needs_routing))
        if unit_id:
            query = query.where(work_orders.c.unit_id == unit_id)
        if crew_id:
            query = query.where(work_orders.c.crew_id == crew_id)
        if incident_id:
            query = query.where(work_orders.c.incident_id == incident_id)
        rows = (await self.session.execute(query.limit(limit).offset(offset))).all()
        return [_order(r) for r in rows]

    async def count_for_crew(self, crew_id: str, status: StatusFilter | None = None) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(work_orders)
            .where(work_orders.c.crew_id == crew_id, *_status_is(status))
        )
        return await self._count(query)

    async def overdue_acceptances(self, now: datetime, limit: int = 50) -> list[str]:
        """Assigned orders past their acceptance deadline, locked so two scanners never race.
        The status written into the SQL: the partial index of assigned orders answers
        (ix_work_orders_pending_accept), never a scan of every order there ever was."""
        rows = await self.session.execute(
            sa.select(work_orders.c.id)
            .where(work_orders.c.status == written("assigned"), work_orders.c.accept_by < now)
            .order_by(work_orders.c.accept_by)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [r.id for r in rows]

    async def unassigned_leads(self, limit: int = 50) -> list[str]:
        """Orders waiting for a crew (none was on duty when they came in), from the partial
        index of such orders (ix_work_orders_unassigned_leads: its predicate written as is)."""
        rows = await self.session.execute(
            sa.select(work_orders.c.id)
            .where(
                work_orders.c.status == written("created"),
                work_orders.c.is_lead,
                # Only units with a crew on duty: orders of an unstaffed unit must not crowd out the rest.
                work_orders.c.unit_id.in_(
                    sa.select(crews.c.unit_id).where(crews.c.on_duty.is_(True))
                ),
            )
            .order_by(work_orders.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [r.id for r in rows]

    async def record_history(self, row: dict[str, Any]) -> None:
        """A history row (history_row) of an order already there."""
        await self.session.execute(work_order_history.insert(), row)  # parameters: see add

    async def history(self, order_id: str) -> Sequence[sa.Row[*tuple[Any, ...]]]:
        return (
            await self.session.execute(
                sa.select(work_order_history)
                .where(work_order_history.c.work_order_id == order_id)
                .order_by(work_order_history.c.id)
            )
        ).all()

    async def crews_tried(self, order_id: str) -> set[str]:
        rows = await self.session.execute(
            sa.select(work_order_history.c.crew_id)
            .distinct()
            .where(
                work_order_history.c.work_order_id == order_id,
                work_order_history.c.status == "assigned",
            )
        )
        return {r.crew_id for r in rows if r.crew_id}

    async def add_attachment(self, **values) -> None:
        await self.session.execute(attachments.insert().values(**values))

    async def attachments(self, order_id: str) -> Sequence[sa.Row[*tuple[Any, ...]]]:
        return (
            await self.session.execute(
                sa.select(
                    attachments.c.id,
                    attachments.c.filename,
                    attachments.c.content_type,
                    attachments.c.size,
                    attachments.c.uploaded_at,
                )
                .where(attachments.c.work_order_id == order_id)
                .order_by(attachments.c.uploaded_at, attachments.c.id)
            )
        ).all()

    async def attachment(self, order_id: str, attachment_id: str):
        return (
            await self.session.execute(
                sa.select(attachments).where(
                    attachments.c.work_order_id == order_id, attachments.c.id == attachment_id
                )
            )
        ).first()

    # service areas
    async def service_areas(self) -> dict[str, ServiceArea]:
        rows = (await self.session.execute(sa.select(service_areas))).all()
        return {r.area_code: ServiceArea(r.area_code, r.unit_id, r.area_class) for r in rows}

    async def routing_table(
        self, area_code: str | None, *, max_age: float
    ) -> dict[str, ServiceArea]:
        """The service areas a new order is routed by, read at most every `max_age` seconds.
        Nothing is read for an order without an area code, and a code missing from the copy is
        looked up again (an area just mapped routes at once); a remapped area is seen within
        max_age (an import through this process, at once)."""
        if not area_code:
            return {}
        key = _database_of(self.session)
        cached = _ROUTING.get(key)
        if cached and time.monotonic() - cached[0] < max_age and area_code in cached[1]:
            return cached[1]
        areas = await self.service_areas()
        _ROUTING[key] = (time.monotonic(), areas)
        return areas

    async def service_area_rows(self) -> Sequence[sa.Row[*tuple[Any, ...]]]:
        return (
            await self.session.execute(sa.select(service_areas).order_by(service_areas.c.area_code))
        ).all()

    async def upsert_service_areas(
        self, areas: list[ServiceArea], names: dict[str, str | None] | None = None
    ) -> None:
        if not areas:
            return
        names = names or {}
        _ROUTING.pop(_database_of(self.session), None)
        rows = [{**a.__dict__, "name": names.get(a.area_code)} for a in areas]
        # In statements of 1,000: a statement takes at most 32,767 parameters (asyncpg), and
        # 10,000 areas of 4 columns were one of 40,000 (a 503 for the largest import allowed).
        for start in range(0, len(rows), 1000):
            stmt = insert(service_areas).values(rows[start : start + 1000])
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["area_code"],
                    set_={
                        "unit_id": stmt.excluded.unit_id,
                        "area_class": stmt.excluded.area_class,
                        "name": sa.func.coalesce(stmt.excluded.name, service_areas.c.name),
                    },
                )
            )


class CrewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_unit(self, unit_id: str, name: str) -> None:
        stmt = insert(units).values(unit_id=unit_id, name=name)
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["unit_id"], set_={"name": name})
        )

    async def units(self) -> Sequence[sa.Row[*tuple[Any, ...]]]:
        return (await self.session.execute(sa.select(units).order_by(units.c.unit_id))).all()

    async def unknown_units(self, unit_ids: Iterable[str]) -> set[str]:
        """Those of `unit_ids` no unit has."""
        wanted = set(unit_ids)
        if not wanted:
            return set()
        known = await self.session.scalars(
            sa.select(units.c.unit_id).where(
                units.c.unit_id == sa.any_(sa.bindparam("ids", type_=ARRAY(units.c.unit_id.type)))
            ),
            {"ids": list(wanted)},
        )
        return wanted - set(known)

    async def upsert_crew(self, crew_id: str, unit_id: str, name: str) -> None:
        stmt = insert(crews).values(crew_id=crew_id, unit_id=unit_id, name=name)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["crew_id"], set_={"unit_id": unit_id, "name": name}
            )
        )

    async def get(self, crew_id: str):
        return (
            await self.session.execute(sa.select(crews).where(crews.c.crew_id == crew_id))
        ).first()

    async def update(self, crew_id: str, **values) -> bool:
        result = await self.session.execute(
            crews.update().where(crews.c.crew_id == crew_id).values(**values)
        )
        return rows_affected(result) > 0

    async def record_position(
        self, crew_id: str, latitude: float, longitude: float, at: datetime
    ) -> bool:
        """The crew's position as of `at`, unless it has one as new or newer: a late or replayed
        fix (the tracker's, the phone's) never moves the crew back to where it was. The check is
        in the UPDATE itself, so two fixes racing keep the newer. False if no such crew."""
        result = await self.session.execute(
            crews.update()
            .where(
                crews.c.crew_id == crew_id,
                sa.or_(crews.c.position_at.is_(None), crews.c.position_at < at),
            )
            .values(latitude=latitude, longitude=longitude, position_at=at)
        )
        return rows_affected(result) > 0 or await self.get(crew_id) is not None

    async def upsert_member(self, member_id: str, crew_id: str, name: str) -> None:
        stmt = insert(crew_members).values(member_id=member_id, crew_id=crew_id, name=name)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["member_id"],
                set_={"crew_id": crew_id, "name": name},
            )
        )

    async def member(self, member_id: str):
        return (
            await self.session.execute(
                sa.select(crew_members).where(crew_members.c.member_id == member_id)
            )
        ).first()

    async def members(self, crew_id: str) -> Sequence[sa.Row[*tuple[Any, ...]]]:
        return (
            await self.session.execute(
                sa.select(crew_members.c.member_id, crew_members.c.name)
                .where(crew_members.c.crew_id == crew_id)
                .order_by(crew_members.c.member_id)
            )
        ).all()

    async def add_shift(
        self, shift_id: str, crew_id: str, starts_at: datetime, ends_at: datetime
    ) -> None:
        await self.session.execute(
            crew_shifts.insert().values(
                id=shift_id, crew_id=crew_id, starts_at=starts_at, ends_at=ends_at
            )
        )

    async def shifts(self, crew_id: str) -> Sequence[sa.Row[*tuple[Any, ...]]]:
        return (
            await self.session.execute(
                sa.select(crew_shifts)
                .where(crew_shifts.c.crew_id == crew_id)
                .order_by(crew_shifts.c.starts_at)
            )
        ).all()

    async def board(self, unit_id: str | None = None) -> Sequence[sa.Row[*tuple[Any, ...]]]:
        """Crews with their positions and open-order load, for the supervisor board."""
        query = sa.select(crews).order_by(crews.c.unit_id, crews.c.crew_id)
        if unit_id:
            query = query.where(crews.c.unit_id == unit_id)
        return (await self.session.execute(query)).all()

    async def states(self, unit_id: str) -> list[CrewState]:
        """The unit's crews with their open-order load and their roster, in one round trip."""
        return _crew_states(await self.session.execute(_CREW_STATES, {"unit_id": unit_id}))


class OutageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load_topology(self, transformer_rows: list[dict], meter_rows: list[dict]) -> None:
        if transformer_rows:
            stmt = insert(transformers).values(transformer_rows)
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["transformer_id"], set_={"feeder_id": stmt.excluded.feeder_id}
                )
            )
        for start in range(0, len(meter_rows), 1000):
            stmt = insert(meters).values(meter_rows[start : start + 1000])
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["meter_no"],
                    set_={"transformer_id": stmt.excluded.transformer_id},
                )
            )

    async def unknown_transformers(self, transformer_ids: Iterable[str]) -> set[str]:
        """Those of `transformer_ids` no topology import has brought."""
        wanted = set(transformer_ids)
        if not wanted:
            return set()
        column = transformers.c.transformer_id
        known = await self.session.scalars(
            sa.select(column).where(
                column == sa.any_(sa.bindparam("ids", type_=ARRAY(column.type)))
            ),
            {"ids": list(wanted)},
        )
        return wanted - set(known)

    async def lock(self, key: ClusterKey) -> None:
        """Serialise clustering per transformer (or for all location-only reports), across processes."""
        name = f"{CLUSTER_LOCK}{key.transformer_id or 'geo'}"
        await self.session.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(name, 0)))
        )

    async def fold_context(self, ticket_id: str, meter_no: str | None) -> FoldContext:
        """What a report that may fold into an incident needs before its incident is read, in
        one round trip (it was three, each report of a storm): the ticket's state (as
        ticket_state reads it), its meter's place and, when the meter is under a transformer,
        that transformer's clustering lock, which every report located there takes. The state and
        the place are read on the statement's snapshot, taken before the lock, as they were
        read before it when they were statements of their own; the open incidents, read next,
        see everything committed by whoever held the lock."""
        row = (
            await self.session.execute(
                _FOLD_CONTEXT, {"ticket_id": ticket_id, "meter_no": meter_no}
            )
        ).one()
        return FoldContext(
            existing_id=row.existing_id,
            links_waiting=bool(row.links_waiting),
            transformer_id=row.transformer_id,
            feeder_id=row.feeder_id,
        )

    async def open_incidents(
        self, unit_id: str, near: ClusterKey | None = None
    ) -> list[OpenIncident]:
        """The unit's open incidents; `near` a report's place, only those matching_incident
        could fold it into (its transformer's, its feeder's, or without topology those placed
        by location): in a storm a unit has hundreds open, and every report read them all."""
        rows = (await self.session.execute(_open_incidents(unit_id, near))).all()
        return [open_incident(r) for r in rows]

    async def locked_incidents(self, unit_id: str, near: ClusterKey) -> list[dict[str, Any]]:
        """open_incidents near a report's place, whole, each locked until the commit (FOR NO
        KEY UPDATE): no restoration, cancellation or other change of them comes between this
        read and the unit of work's end, so what it read stays true for all of its reports.
        A row that changed since the statement's snapshot is read as it now is; one no longer
        open is not read."""
        query = _open_incidents(unit_id, near).with_for_update(key_share=True)
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def locked_incident(self, incident_id: str) -> dict[str, Any] | None:
        """The incident, whole and locked as locked_incidents reads them; None when it is not
        open (or not there)."""
        query = (
            sa.select(incidents)
            .where(incidents.c.id == incident_id, incidents.c.status.in_(INCIDENT_OPEN))
            .with_for_update(key_share=True)
        )
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row is not None else None

    async def read_ahead_folds(self, reports: dict[str, str | None]) -> dict[str, FoldContext]:
        """fold_context for a consumer batch's reports (meter by ticket) in one round trip: each
        ticket's state and its meter's place, every transformer's clustering lock taken, in one
        order (a batch never holds one lock while waiting for another that a batch holding
        that one waits for)."""
        result = await self.session.execute(
            _READ_AHEAD_FOLDS, {"ticket_ids": list(reports), "meter_nos": list(reports.values())}
        )
        return {
            r.ticket_id: FoldContext(
                existing_id=r.existing_id,
                links_waiting=bool(r.links_waiting),
                transformer_id=r.transformer_id,
                feeder_id=r.feeder_id,
            )
            for r in result
        }

    async def write_reports_taken(self, taken: list[dict[str, Any]]) -> None:
        """Incidents that took reports (locked_incidents rows as the reports left them), in one
        round trip at the commit. On the session's connection, not through the ORM's execute:
        the audit trail has each report's change already (audit.note_update as it was
        taken)."""
        connection = await self.session.connection()
        await connection.execute(
            _REPORTS_TAKEN, [{f"taken_{k}": row[k] for k in _TAKEN} for row in taken]
        )

    async def add(self, **values) -> None:
        await self.session.execute(incidents.insert().values(**values))

    async def update(self, incident_id: str, **values) -> None:
        await self.session.execute(
            incidents.update().where(incidents.c.id == incident_id).values(**values)
        )

    async def take_report(self, incident_id: str, order_id: str, at: datetime):
        """A report joins the incident, in one UPDATE ... RETURNING: it is the last report; it
        leads when the incident had no lead yet; with a lead already there, a suspected fault
        is confirmed by it. Returns the incident's row as it now is (not its tickets: reading
        them on every report made a storm's incident of n reports cost O(n^2))."""
        result = await self.session.execute(
            _TAKE_REPORT, {"incident_id": incident_id, "order_id": order_id, "at": at}
        )
        return result.one()

    async def take_link(self, incident_id: str, at: datetime):
        """A repeat call linked to the incident while it is open, in one UPDATE ... RETURNING:
        its last report is the later of its own and the call's, and a suspected fault is
        confirmed by the call. Returns the incident's unit, whether the call confirmed it,
        its expected restoration and cause; None when the incident is not open (or not
        there), and nothing was written."""
        result = await self.session.execute(_TAKE_LINK, {"incident_id": incident_id, "at": at})
        return result.first()

    async def set_restoration(
        self, incident_id: str, expected_restore_at: datetime | None, cause: str | None
    ):
        """The expected restoration (and the cause, when one is given) in one UPDATE ...
        RETURNING the cause in force; None for no such incident."""
        c = incidents.c
        result = await self.session.execute(
            incidents.update()
            .where(c.id == incident_id)
            .values(
                expected_restore_at=expected_restore_at,
                cause=sa.func.coalesce(
                    sa.func.nullif(sa.literal(cause, c.cause.type), ""), c.cause
                ),
            )
            .returning(c.cause)
        )
        return result.first()

    async def get(self, incident_id: str, *, for_update: bool = False):
        query = sa.select(incidents).where(incidents.c.id == incident_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).first()

    async def search(
        self, status: str | None, limit: int, offset: int
    ) -> Sequence[sa.Row[*tuple[Any, ...]]]:
        query = (
            sa.select(incidents)
            .order_by(incidents.c.declared_at.desc())
            .limit(limit)
            .offset(offset)
        )
        if status == "open":  # every state of an incident still running
            query = query.where(incidents.c.status.in_(INCIDENT_OPEN))
        elif status:
            query = query.where(incidents.c.status == status)
        return (await self.session.execute(query)).all()

    async def linked_ticket_ids(self, incident_id: str) -> list[str]:
        """Every ticket of the incident: its orders' and those intake linked to it (repeat calls),
        whichever service did the linking."""
        linked = _linked_tickets(incident_id)
        rows = await self.session.execute(
            sa.select(linked.c.ticket_id).order_by(linked.c.at, linked.c.ticket_id)
        )
        return [r.ticket_id for r in rows]

    async def open_orders_under(self, transformer_id: str, *, since: datetime) -> list[WorkOrder]:
        """Open orders of homes under the transformer, not yet in an incident, oldest first."""
        rows = (
            await self.session.execute(
                sa.select(work_orders)
                .join(meters, meters.c.meter_no == work_orders.c.meter_no)
                .where(
                    meters.c.transformer_id == transformer_id,
                    work_orders.c.incident_id.is_(None),
                    work_orders.c.status.in_(OPEN_STATUSES),
                    work_orders.c.created_at >= since,
                )
                .order_by(work_orders.c.created_at)
                .with_for_update(of=work_orders)
            )
        ).all()
        return [_order(r) for r in rows]

    async def meters_under(
        self, transformer_id: str | None, feeder_id: str | None, *, limit: int
    ) -> list[str]:
        """Meters the faulty equipment feeds (a transformer, else a whole feeder), from topology."""
        if transformer_id:
            where = meters.c.transformer_id == transformer_id
        elif feeder_id:
            where = meters.c.transformer_id.in_(
                sa.select(transformers.c.transformer_id).where(
                    transformers.c.feeder_id == feeder_id
                )
            )
        else:
            return []
        rows = await self.session.execute(
            sa.select(meters.c.meter_no).where(where).order_by(meters.c.meter_no).limit(limit)
        )
        return [r.meter_no for r in rows]

    async def orders(self, incident_id: str) -> list[WorkOrder]:
        rows = (
            await self.session.execute(
                sa.select(work_orders)
                .where(work_orders.c.incident_id == incident_id)
                .order_by(work_orders.c.created_at)
                .with_for_update()
            )
        ).all()
        return [_order(r) for r in rows]


class LinkRepository:
    """Repeat-call consultations intake linked to an incident or a repair."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values) -> None:
        await self.session.execute(
            insert(incident_links)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["ticket_id"])
        )

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Links (add's values, each a row of its own ticket), in one round trip. On the
        session's connection, not through the ORM's execute: the audit trail has each event's
        row already (audit.note_insert as it was gathered)."""
        connection = await self.session.connection()
        await connection.execute(_NEW_LINKS, {"links": jsontext.dumps_rows(rows).decode()})

    async def get(self, ticket_id: str):
        return (
            await self.session.execute(
                sa.select(incident_links).where(incident_links.c.ticket_id == ticket_id)
            )
        ).first()

    async def attach_pending(
        self, *, linked_ticket_id: str, work_order_id: str, incident_id: str | None
    ) -> None:
        """Links that arrived before the order of the ticket they point at (topics are not
        ordered across tickets) learn their order now."""
        await self.session.execute(
            incident_links.update()
            .where(*_pending_links(linked_ticket_id))
            .values(
                work_order_id=work_order_id,
                incident_id=sa.func.coalesce(incident_links.c.incident_id, incident_id),
            )
        )

    async def release(
        self,
        at: datetime,
        *,
        ticket_ids: list[str] | None = None,
        incident_id: str | None = None,
        work_order_ids: list[str] | None = None,
        without_order: bool = False,
    ) -> list:
        """Mark unreleased links released and return them (each exactly once). `without_order`:
        only links to the incident itself, not to one of its orders' tickets."""
        match: list[sa.ColumnElement[bool]] = []
        if ticket_ids:
            match.append(incident_links.c.ticket_id.in_(ticket_ids))
        if incident_id:
            match.append(incident_links.c.incident_id == incident_id)
        if work_order_ids:
            match.append(incident_links.c.work_order_id.in_(work_order_ids))
        if not match:
            return []
        where = [sa.or_(*match), incident_links.c.released_at.is_(None)]
        if without_order:
            where.append(incident_links.c.work_order_id.is_(None))
        rows = await self.session.execute(
            incident_links.update().where(*where).values(released_at=at).returning(incident_links)
        )
        return sorted(rows.all(), key=lambda r: (r.linked_at, r.ticket_id))


def _linked_tickets(incident_id: str) -> sa.Subquery:
    """(ticket_id, at) of every ticket of the incident, each once, at its earliest."""
    of_orders = sa.select(work_orders.c.ticket_id, work_orders.c.created_at.label("at")).where(
        work_orders.c.incident_id == incident_id
    )
    # The orders' ids as an array, not IN (subquery): each side of the OR is then an index
    # lookup (a BitmapOr); with the subquery, PostgreSQL read every link there ever was.
    orders_of_incident = sa.func.array(
        sa.select(work_orders.c.id)
        .where(work_orders.c.incident_id == incident_id)
        .scalar_subquery()
    )
    of_links = sa.select(incident_links.c.ticket_id, incident_links.c.linked_at.label("at")).where(
        sa.or_(
            incident_links.c.incident_id == incident_id,
            incident_links.c.work_order_id == sa.any_(orders_of_incident),
        )
    )
    both = sa.union_all(of_orders, of_links).subquery()
    return (
        sa.select(both.c.ticket_id, sa.func.min(both.c.at).label("at"))
        .group_by(both.c.ticket_id)
        .subquery()
    )


def _pending_links(
    linked_ticket_id: str | sa.ColumnElement[str],
) -> tuple[sa.ColumnElement[bool], ...]:
    """Unreleased links to a ticket whose order they do not know yet."""
    return (
        incident_links.c.linked_ticket_id == linked_ticket_id,
        incident_links.c.work_order_id.is_(None),
        incident_links.c.released_at.is_(None),
    )


# The statements every new order runs, built once (see _SET_ARRIVE_BY).
# ticket_state: the ticket's latest order, and whether links wait for one.
_TICKET_STATE = sa.select(
    sa.select(work_orders.c.id)
    .where(work_orders.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(work_orders.c.created_at.desc())
    .limit(1)
    .scalar_subquery()
    .label("existing_id"),
    sa.exists().where(*_pending_links(sa.bindparam("ticket_id"))).label("links_waiting"),
)


# The storm's two statements per report, built once (executed with parameters, as the audit
# trail joins a statement to its rows before once: see brightline.messaging.audit._joined).
def _take_report() -> sa.Update:
    c = incidents.c
    at = sa.bindparam("at", type_=c.last_report_at.type)
    confirms = sa.and_(c.status == "suspected", c.lead_work_order_id.is_not(None))
    return (
        incidents.update()
        .where(c.id == sa.bindparam("incident_id"))
        .values(
            last_report_at=at,
            lead_work_order_id=sa.func.coalesce(
                c.lead_work_order_id, sa.bindparam("order_id", type_=c.lead_work_order_id.type)
            ),
            status=sa.case((confirms, "confirmed"), else_=c.status),
            confirmed_at=sa.case((confirms, at), else_=c.confirmed_at),
        )
        .returning(*c)
    )


def _take_link() -> sa.Update:
    c = incidents.c
    at = sa.bindparam("at", type_=c.last_report_at.type)
    # The incident as it was, locked: under a concurrent change, the version this one updates.
    was = (
        sa.select(c.id, c.status)
        .where(c.id == sa.bindparam("incident_id"))
        .with_for_update()
        .subquery("was")
    )
    confirms = was.c.status == "suspected"
    return (
        incidents.update()
        .where(c.id == was.c.id, was.c.status.in_(INCIDENT_OPEN))
        .values(
            last_report_at=sa.func.greatest(c.last_report_at, at),
            status=sa.case((confirms, "confirmed"), else_=c.status),
            confirmed_at=sa.case((confirms, at), else_=c.confirmed_at),
        )
        .returning(c.unit_id, confirms.label("confirmed"), c.expected_restore_at, c.cause)
    )


_TAKE_REPORT = _take_report()
# write_reports_taken: what a report joining an incident changes (take_report), as computed
# by the unit of work that holds the incident locked.
_TAKEN = ("id", "last_report_at", "status", "confirmed_at")
_REPORTS_TAKEN = (
    incidents.update()
    .where(incidents.c.id == sa.bindparam("taken_id"))
    .values({k: sa.bindparam(f"taken_{k}") for k in _TAKEN[1:]})
)


def _open_incidents(unit_id: str, near: ClusterKey | None) -> sa.Select[Any]:
    c = incidents.c
    where = [c.status.in_(INCIDENT_OPEN), c.unit_id == unit_id]
    if near is not None and near.transformer_id:
        same = [c.transformer_id == near.transformer_id]
        if near.feeder_id:
            same.append(sa.and_(c.transformer_id.is_(None), c.feeder_id == near.feeder_id))
        where.append(sa.or_(*same))
    elif near is not None:
        where += [c.transformer_id.is_(None), c.feeder_id.is_(None)]
    return sa.select(incidents).where(*where)


def open_incident(row: Any) -> OpenIncident:
    """An incidents row (a Row or a mapping) as matching_incident reads it."""
    r = row if isinstance(row, dict) else row._mapping
    return OpenIncident(
        r["id"],
        r["transformer_id"],
        r["feeder_id"],
        r["latitude"],
        r["longitude"],
        r["radius_m"],
        r["last_report_at"],
    )


_TAKE_LINK = _take_link()

# Clustering's advisory lock is named after this and the transformer ("geo" for reports placed
# by location alone).
CLUSTER_LOCK = "dispatch.outage:"


@dataclass(frozen=True)
class FoldContext:
    """OutageRepository.fold_context: a report's ticket state and its meter's place; the
    transformer's clustering lock is held when transformer_id is set."""

    existing_id: str | None
    links_waiting: bool
    transformer_id: str | None
    feeder_id: str | None


def _fold_context() -> sa.Select[Any]:
    located = (
        sa.select(meters.c.transformer_id, transformers.c.feeder_id)
        .select_from(
            meters.outerjoin(transformers, transformers.c.transformer_id == meters.c.transformer_id)
        )
        .where(meters.c.meter_no == sa.bindparam("meter_no"))
        .subquery("located")
    )
    one = sa.select(sa.literal(1).label("one")).subquery("one")
    lock = sa.func.pg_advisory_xact_lock(
        sa.func.hashtextextended(sa.literal(CLUSTER_LOCK) + located.c.transformer_id, 0)
    )
    return sa.select(
        *_TICKET_STATE.selected_columns,
        located.c.transformer_id,
        located.c.feeder_id,
        sa.case((located.c.transformer_id.is_not(None), lock)).label("locked"),
    ).select_from(one.outerjoin(located, sa.true()))


_FOLD_CONTEXT = _fold_context()

# read_ahead_folds: each report's ticket state and meter's place (fold_context's, per row of
# the batch), after the transformers' locks are taken in their order (an InitPlan: once,
# before the rows are read).
_READ_AHEAD_FOLDS = sa.text(
    f"""
    WITH reports AS (
        SELECT * FROM unnest(CAST(:ticket_ids AS varchar[]), CAST(:meter_nos AS varchar[]))
            AS r(ticket_id, meter_no)
    ), placed AS (
        SELECT r.ticket_id, m.transformer_id, t.feeder_id
        FROM reports r
        LEFT JOIN meters m ON m.meter_no = r.meter_no
        LEFT JOIN transformers t ON t.transformer_id = m.transformer_id
    )
    SELECT p.ticket_id, p.transformer_id, p.feeder_id,
        (SELECT o.id FROM work_orders o WHERE o.ticket_id = p.ticket_id
            ORDER BY o.created_at DESC LIMIT 1) AS existing_id,
        EXISTS (SELECT 1 FROM incident_links l WHERE l.linked_ticket_id = p.ticket_id
            AND l.work_order_id IS NULL AND l.released_at IS NULL) AS links_waiting,
        (SELECT count(pg_advisory_xact_lock(hashtextextended('{CLUSTER_LOCK}' || k.id, 0)))
            FROM (SELECT DISTINCT transformer_id AS id FROM placed
                  WHERE transformer_id IS NOT NULL ORDER BY 1) k) AS locked
    FROM placed p
    """
).columns(
    sa.column("ticket_id", sa.String),
    sa.column("transformer_id", sa.String),
    sa.column("feeder_id", sa.String),
    sa.column("existing_id", sa.String),
    sa.column("links_waiting", sa.Boolean),
    sa.column("locked", sa.Integer),
)


def _crew_state_columns() -> tuple[Any, ...]:
    """A crew with its open-order load (kept on its row) and its roster
    (CrewRepository.states)."""

    def roster(column: sa.Column[Any]) -> sa.ScalarSelect[Any]:
        # starts and ends aggregated in the same order, so they pair up again by position
        ordered = sa.func.array_agg(
            aggregate_order_by(column, crew_shifts.c.starts_at, crew_shifts.c.id)
        )
        return sa.select(ordered).where(crew_shifts.c.crew_id == crews.c.crew_id).scalar_subquery()

    return (
        *crews.c,
        roster(crew_shifts.c.starts_at).label("shift_starts"),
        roster(crew_shifts.c.ends_at).label("shift_ends"),
    )


_CREW_STATES = (
    sa.select(*_crew_state_columns())
    .where(crews.c.unit_id == sa.bindparam("unit_id"))
    .order_by(crews.c.crew_id)
)
# The ticket's state on every row of its unit's crews, and on one row of NULL crew columns
# when the unit has none (the outer join).
_state = _TICKET_STATE.subquery("ticket_state")
_TICKET_STATE_AND_CREWS = (
    sa.select(_state.c.existing_id, _state.c.links_waiting, *_crew_state_columns())
    .select_from(_state.outerjoin(crews, crews.c.unit_id == sa.bindparam("unit_id")))
    .order_by(crews.c.crew_id)
)


# read_ahead: of a batch's tickets those with an order and those with links waiting (each
# answered by its index, as ticket_state's), on every row of the units' crews.
_BATCH = (
    sa.func.unnest(sa.bindparam("ticket_ids", type_=ARRAY(work_orders.c.ticket_id.type)))
    .table_valued(sa.column("ticket_id", work_orders.c.ticket_id.type))
    .render_derived(name="batch")
)
_batch_state = sa.select(
    sa.select(sa.func.array_agg(_BATCH.c.ticket_id))
    .where(sa.exists().where(work_orders.c.ticket_id == _BATCH.c.ticket_id))
    .scalar_subquery()
    .label("ordered"),
    sa.select(sa.func.array_agg(_BATCH.c.ticket_id))
    .where(sa.exists().where(*_pending_links(_BATCH.c.ticket_id)))
    .scalar_subquery()
    .label("waiting"),
).subquery("batch_state")
_READ_AHEAD = (
    sa.select(_batch_state.c.ordered, _batch_state.c.waiting, *_crew_state_columns())
    .select_from(
        _batch_state.outerjoin(
            crews,
            crews.c.unit_id == sa.any_(sa.bindparam("unit_ids", type_=ARRAY(crews.c.unit_id.type))),
        )
    )
    .order_by(crews.c.crew_id)
)


def _crew_states(rows: Iterable[Any]) -> list[CrewState]:
    return [
        CrewState(
            r.crew_id,
            r.unit_id,
            r.on_duty,
            r.latitude,
            r.longitude,
            r.open_orders,
            tuple(
                Shift(start, end)
                for start, end in zip(r.shift_starts or (), r.shift_ends or (), strict=True)
            ),
        )
        for r in rows
        if r.crew_id is not None
    ]


# Each database's routing table, as routing_table last read it: (monotonic time, areas).
_ROUTING: dict[object, tuple[float, dict[str, ServiceArea]]] = {}


def _database_of(session: AsyncSession) -> object:
    """The database a session works on (one process may serve several: tests do), by its URL
    as text, taken once per engine (a URL's hash writes its repr each time: every new order
    asked it)."""
    engine = session.get_bind().engine
    key = _DATABASES.get(engine)
    if key is None:
        key = _DATABASES[engine] = engine.url.render_as_string()
    return key


_DATABASES: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _status_is(status: StatusFilter | None) -> tuple[sa.ColumnElement[bool], ...]:
    """The filter of a list of orders, each as its partial index's predicate is written."""
    if status == "open":
        return (work_orders.c.status.in_(OPEN_STATUSES),)
    if status == "awaiting_review":
        return (work_orders.c.status == written("returned"), work_orders.c.reviewed_at.is_(None))
    if status == "cancel_requested":
        # A move clears a request (WorkOrder._move): one still set is on an open order.
        return (work_orders.c.cancel_requested_at.is_not(None),)
    return (work_orders.c.status == status,) if status else ()


def _order(row) -> WorkOrder:
    return WorkOrder(
        id=row.id,
        ticket_id=row.ticket_id,
        created_at=row.created_at,
        **{f: getattr(row, f) for f in ORDER_FIELDS},
    )
