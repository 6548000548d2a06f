"""Dispatch's use cases as plain functions over a unit of work. Entry points commit."""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from brightline.calendar.policy import NoPolicyInForce, adopted_book, limit_due
from brightline.contracts.events.common import AreaClass
from brightline.contracts.events.dispatch import (
    LinkedTicketReleasedV1,
    OutageCancelledV1,
    OutageDeclaredV1,
    OutageRestoredV1,
    OutageUpdatedV2,
    ReleaseReason,
    WorkOrderCancelRefusedV1,
    WorkOrderCancelRequestedV1,
    WorkOrderCreatedV2,
    WorkOrderPromotedV2,
    WorkOrderReturnedV1,
    WorkOrderRoutedV1,
    WorkOrderStatusChangedV1,
)
from brightline.contracts.ids import new_id
from brightline.dispatch import metrics
from brightline.dispatch.adapters.orm import (
    incident_links,
    incidents,
    work_order_history,
    work_orders,
)
from brightline.dispatch.adapters.repository import (
    CrewRepository,
    FoldContext,
    LinkRepository,
    OutageRepository,
    WorkOrderRepository,
    history_row,
    open_incident,
    order_row,
    riding_new_orders,
)
from brightline.dispatch.consumers import fold_reports, ordinary_repairs
from brightline.dispatch.domain import commands, events
from brightline.dispatch.domain.model import (
    INCIDENT_OPEN,
    NEEDS_ROUTING_UNIT,
    OPEN_STATUSES,
    RESOLUTION_REPAIRED,
    ClusterKey,
    CrewState,
    OpenIncident,
    ServiceArea,
    WorkOrder,
    check_step_time,
    choose_crew,
    folds_into_no_incident,
    is_crew_step,
    matching_incident,
    may_join_incident,
    points_at_shared_equipment,
    route,
    several_meters_dark,
    with_load,
)
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging import Handler, MessageBus, UnitOfWork
from brightline.messaging.audit import note_insert, note_update
from brightline.messaging.unit_of_work import Riding
from brightline.platform import clock

SYSTEM = "dispatch"
# An order nobody could route still carries the strictest arrival clock until it is routed.
UNROUTED_AREA_CLASS: AreaClass = "urban"
ARRIVAL_CLOCK = "repair.arrival."  # + the area class: the SLA monitor's limit key
log = logging.getLogger(__name__)
# The unit of work's arrival deadlines to write at commit (session.info: one per unit of work).
ARRIVALS = "dispatch_arrivals"
# The unit of work's new orders to write at commit (NewOrders; session.info, as ARRIVALS).
NEW_ORDERS = "dispatch_new_orders"


# The unit of work's reports joining incidents, told at commit (IncidentUpdates; session.info).
INCIDENT_UPDATES = "dispatch_incident_updates"
# The unit of work's repeat calls linked to open incidents (NewLinks; session.info).
NEW_LINKS = "dispatch_new_links"


class NotFound(Exception):
    pass


@dataclass
class IncidentUpdate:
    """What the joins of one incident in a unit of work tell: the tickets they added, and the
    incident as the last one left it."""

    updated_at: datetime
    added_ticket_ids: list[str]
    expected_restore_at: datetime | None
    cause: str | None
    status: str | None


@dataclass
class IncidentUpdates:
    """A consumer batch's reports joining incidents (a storm's calls, several per incident and
    batch), told in one outage.updated per incident at commit instead of one per report: each
    event cost its outbox row and relay, and intake and records a consumed event each. Any other
    handler tells them first (told_incident_updates), so an incident's events keep their order."""

    by_incident: dict[str, IncidentUpdate] = field(default_factory=dict)
    # Incidents locked by this unit of work whose reports it took without writing them yet
    # (Folds): each row as its last report left it, written with the others at once.
    taken: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def tell(self, uow: UnitOfWork) -> None:
        if self.taken:
            await OutageRepository(uow.session).write_reports_taken(list(self.taken.values()))
            self.taken.clear()
        for incident_id, update in self.by_incident.items():
            uow.emit(
                OutageUpdatedV2(
                    incident_id=incident_id,
                    updated_at=update.updated_at,
                    expected_restore_at=update.expected_restore_at,
                    added_ticket_ids=update.added_ticket_ids,
                    cause=update.cause,
                    status=update.status,
                )
            )
        self.by_incident.clear()

    def add(self, incident_id: str, ticket_id: str, at: datetime, row: dict[str, Any]) -> None:
        """The ticket added to the incident at `at`, which is now `row` (an incidents row)."""
        told = self.by_incident.get(incident_id)
        self.by_incident[incident_id] = IncidentUpdate(
            updated_at=at,
            added_ticket_ids=[*(told.added_ticket_ids if told else ()), ticket_id],
            expected_restore_at=row["expected_restore_at"],
            cause=row["cause"],
            status=row["status"],
        )


def _incident_updates(uow: UnitOfWork) -> IncidentUpdates:
    return uow.gathered(INCIDENT_UPDATES, IncidentUpdates, lambda u: _told_at_commit(u, uow))


async def _told_at_commit(updates: IncidentUpdates, uow: UnitOfWork) -> None:
    await written_new_orders(uow)  # the batch's orders first, as one by one wrote them
    await updates.tell(uow)


async def told_incident_updates(uow: UnitOfWork) -> None:
    """The unit of work's joins written and told now (before a handler that may read or tell
    of an incident); what it read ahead for its reports is read again after that handler."""
    uow.session.info.pop(FOLDS, None)
    updates: IncidentUpdates | None = uow.session.info.pop(INCIDENT_UPDATES, None)
    if updates is not None:
        await updates.tell(uow)


# The unit of work's reports that may fold into an incident (Folds; session.info).
FOLDS = "dispatch_folds"
# Folds.incidents' key: what open_incidents reads for a report (its unit and place).
IncidentsNear = tuple[str, str | None, str | None]


@dataclass
class Folds:
    """What a consumer batch's reports that may fold into an incident (a storm's calls, many
    per transformer) read once for them all instead of once each: their tickets' states and
    their meters' places, read ahead with every transformer's clustering lock
    (read_ahead_folds), and each transformer's open incidents, read whole and locked
    (locked_incidents). Locked, an incident does not change but by this unit of work until its
    commit, so a report joining one that has its lead is written with the others at the
    commit (IncidentUpdates.taken), computed here as take_report would have. Dropped when any
    other handler runs (told_incident_updates): it may change what was read."""

    read: set[str] = field(default_factory=set)  # the tickets read ahead
    places: dict[str, FoldContext] = field(default_factory=dict)  # by ticket, until used
    incidents: dict[IncidentsNear, list[str]] = field(default_factory=dict)  # their ids
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id, as now


@dataclass
class NewOrders:
    """A consumer batch's new orders that no link waits for, but an incident's lead (ordinary
    repairs, unrouted ones, reports following an incident's lead), inserted with their history
    rows in one statement at commit: one each cost the round trip of its INSERT, its ORM
    execution and its change capture. Until then the batch's later repairs see them here as
    they would in the table: a ticket ordered already, a crew's load. Every other handler
    writes them first (written_new_orders): it reads the table."""

    orders: dict[str, WorkOrder] = field(default_factory=dict)  # by ticket
    rows: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    # Read ahead for the batch's repairs (read_ahead): tickets read, those with an order, those
    # with links waiting; each unit's crews as read (their load without `orders`).
    read: set[str] = field(default_factory=set)
    ordered: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)
    crews: dict[str, list[CrewState]] = field(default_factory=dict)


def _new_orders(uow: UnitOfWork) -> NewOrders:
    return uow.gathered_to_ride(NEW_ORDERS, NewOrders, _riding_new_orders)


def _riding_new_orders(new: NewOrders) -> Riding | None:
    """The batch's new orders not written before, riding on the commit's last statement (the
    inbox claim's, with the outbox and audit rows): no round trip of their own."""
    if not new.rows:
        return None
    rows, history, new.rows, new.history = new.rows, new.history, [], []
    return riding_new_orders(rows, history)


async def written_new_orders(uow: UnitOfWork) -> None:
    """The batch's new orders gathered so far, written now: before a handler that reads the
    orders or the crews' load from the table, or before the batch's other writes at commit
    (links, incident joins, arrival deadlines), in the order one by one wrote them. Those not
    written so ride on the commit (_riding_new_orders)."""
    new: NewOrders | None = uow.session.info.pop(NEW_ORDERS, None)
    if new is not None and new.rows:
        rows, history, new.rows, new.history = new.rows, new.history, [], []
        await WorkOrderRepository(uow.session).add_many(rows, history)


async def create_work_order(
    command: commands.CreateWorkOrder, uow: UnitOfWork, *, settings: DispatchSettings
) -> WorkOrder:
    orders = WorkOrderRepository(uow.session)
    batch: NewOrders | None = uow.session.info.get(NEW_ORDERS)
    if batch is not None and (ordered := batch.orders.get(command.ticket_id)) is not None:
        return ordered  # the batch ordered this ticket already (its rows are not written yet)
    table = await _routing_table(command.area_code, orders, settings)
    area = route(command.area_code, table)
    ordinary = folds_into_no_incident(command.fault_scope, command.meter_no)
    crews: list[CrewState] | None = None  # read with the ticket's state when surely needed
    located: FoldContext | None = None  # read with it for a report that may fold
    if area is not None and ordinary:
        batch = batch or _new_orders(uow)
        if command.ticket_id not in batch.read:
            await _read_ahead(uow, batch, table)
        if command.ticket_id in batch.read and area.unit_id in batch.crews:
            ordered_before = command.ticket_id in batch.ordered
            links_waiting = command.ticket_id in batch.waiting
            crews = batch.crews[area.unit_id]
        else:
            existing_id, links_waiting, crews = await orders.ticket_state_and_crews(
                command.ticket_id, area.unit_id
            )
            ordered_before = existing_id is not None
        crews = with_load(crews, batch.orders.values())
    elif area is not None:
        # A report that may fold into an incident: its state, its meter's place and its
        # transformer's clustering lock in one round trip (or read ahead with the batch's).
        located = await _fold_context(command, uow)
        links_waiting, ordered_before = located.links_waiting, located.existing_id is not None
    else:
        existing_id, links_waiting = await orders.ticket_state(command.ticket_id)
        ordered_before = existing_id is not None
    if ordered_before:
        existing = await orders.for_ticket(command.ticket_id)
        assert existing is not None, "the order just seen is still there (rows are never deleted)"
        return existing
    if links_waiting:
        # Written at once, its links attached to it: the batch's orders before it first, and
        # what was read ahead with them (it would not count this order's crew).
        await written_new_orders(uow)
    at = clock.now()
    order = WorkOrder.create(
        id=new_id(),
        ticket_id=command.ticket_id,
        unit_id=area.unit_id if area else NEEDS_ROUTING_UNIT,
        area_class=area.area_class if area else UNROUTED_AREA_CLASS,
        created_at=at,
        latitude=command.latitude,
        longitude=command.longitude,
        meter_no=command.meter_no,
        address=command.address,
        description=command.description,
        # The arrival clock runs from the ticket's 受理, not from when this event was processed.
        reported_at=min(command.reported_at or at, at),
        needs_routing=area is None,
        ticket_no=command.ticket_no,
        caller_name=command.caller_name,
        phone=command.phone,
        area_code=command.area_code,
        fault_scope=command.fault_scope,
        fault_started_at=command.fault_started_at,
    )
    if area is not None:
        if located is not None:  # an ordinary repair folds into no incident
            await _cluster(order, command, located, uow, settings, at)
            if order.is_lead:
                await written_new_orders(uow)  # the crews' load is read from the table
        if order.is_lead:
            await _assign(order, uow, settings, at, reason="new order", crews=crews)
    if links_waiting:
        await LinkRepository(uow.session).attach_pending(
            linked_ticket_id=order.ticket_id, work_order_id=order.id, incident_id=order.incident_id
        )
    # An ordinary or unrouted order, or a report following its incident's lead, awaited by
    # no link, waits for the batch's commit.
    batched = (area is None or ordinary or not order.is_lead) and not links_waiting
    await publish(order, uow, recorded_at=at, new=True, batched=batched)
    if area is None:
        metrics.ORDERS_NEEDING_ROUTING.inc()
    return order


async def _read_ahead(uow: UnitOfWork, batch: NewOrders, table: dict[str, ServiceArea]) -> None:
    """What the consumer batch's ordinary repairs from this one on need read, in one statement
    for them all: each ticket's state and its unit's crews. Read now, it is what each would read
    in turn: until a handler writes the batch's orders (written_new_orders, which drops this
    read), only this handler changes what it read, and NewOrders counts that."""
    if uow.causation is None or uow.causation not in uow.batch:
        return  # a unit of work of one event: its own read is as cheap
    ahead = uow.batch[uow.batch.index(uow.causation) :]
    units = {
        t: area.unit_id
        for t, code in ordinary_repairs(ahead).items()
        if (area := route(code, table))
    }
    if not units:
        return
    ordered, waiting, crews = await WorkOrderRepository(uow.session).read_ahead(
        list(units), sorted(set(units.values()))
    )
    batch.read |= units.keys()
    batch.ordered |= ordered
    batch.waiting |= waiting
    batch.crews |= crews


async def _fold_context(command: commands.CreateWorkOrder, uow: UnitOfWork) -> FoldContext:
    """The report's ticket state and meter's place, its transformer's clustering lock held:
    read ahead for the consumer batch's reports from this one on at the first of them."""
    folds: Folds = uow.session.info.setdefault(FOLDS, Folds())
    if command.ticket_id not in folds.read and uow.causation in uow.batch:
        ahead = fold_reports(uow.batch[uow.batch.index(uow.causation) :])
        if len(ahead) > 1:  # one alone reads its own as cheaply
            folds.places |= await OutageRepository(uow.session).read_ahead_folds(ahead)
            folds.read |= ahead.keys()
    # Taken out: the ticket's next event (a redelivery in the batch) sees this one's order.
    located = folds.places.pop(command.ticket_id, None)
    if located is None:
        located = await OutageRepository(uow.session).fold_context(
            command.ticket_id, command.meter_no
        )
    return located


async def _routing_table(
    area_code: str | None, orders: WorkOrderRepository, settings: DispatchSettings
) -> dict[str, ServiceArea]:
    return await orders.routing_table(area_code, max_age=settings.service_area_max_age_seconds)


async def _cluster(
    order: WorkOrder,
    command: commands.CreateWorkOrder,
    located: FoldContext,
    uow: UnitOfWork,
    settings: DispatchSettings,
    at: datetime,
) -> None:
    """Fold a report into the open incident of its equipment, or declare one with this order as
    the lead (the only one that gets a crew and an arrival clock).

    Only reports that point at shared equipment form or join an incident: a building or an
    area dark, or homes whose meters topology places under one transformer, several at once.
    One household's own fault is an ordinary repair. `located` is the meter's place; its
    transformer's clustering lock is held already (fold_context)."""
    outages = OutageRepository(uow.session)
    transformer_id, feeder_id = located.transformer_id, located.feeder_id
    if not may_join_incident(command.fault_scope, transformer_id):
        return
    key = ClusterKey(transformer_id, feeder_id, command.latitude, command.longitude)
    if not transformer_id:
        if command.latitude is None or command.longitude is None:
            return  # nothing to place it by: an ordinary repair
        await outages.lock(key)  # the lock of every report placed by location alone
    incident = matching_incident(
        key,
        await _open_incidents(order.unit_id, key, uow),
        at=at,
        radius_m=settings.outage_radius_m,
        window_seconds=settings.outage_window_seconds,
    )
    if incident is not None:
        await _join(order, incident.id, uow, at)
        return
    await written_new_orders(uow)  # declaring reads and changes orders in the table
    if points_at_shared_equipment(command.fault_scope):
        await _declare_from_report(order, [], command, transformer_id, feeder_id, uow, settings, at)
        return
    # A home of its own: an incident only once several meters under its transformer are dark.
    # may_join_incident lets a home in only when its meter was located under a transformer.
    assert transformer_id is not None and command.meter_no is not None
    dark = await outages.open_orders_under(
        transformer_id, since=at - timedelta(seconds=settings.outage_window_seconds)
    )
    meters = {o.meter_no for o in dark if o.meter_no} | {command.meter_no}
    if several_meters_dark(meters, settings.outage_min_meters):
        await _declare_from_report(
            order, dark, command, transformer_id, feeder_id, uow, settings, at
        )


async def _open_incidents(unit_id: str, key: ClusterKey, uow: UnitOfWork) -> list[OpenIncident]:
    """The open incidents the report could join. Under a transformer (whose lock is held) read
    once per unit of work, locked (Folds); placed by location alone, read each time."""
    outages = OutageRepository(uow.session)
    if not key.transformer_id:
        return await outages.open_incidents(unit_id, near=key)
    folds: Folds = uow.session.info.setdefault(FOLDS, Folds())
    near = (unit_id, key.transformer_id, key.feeder_id)
    if near not in folds.incidents:
        rows = await outages.locked_incidents(unit_id, key)
        for row in rows:  # one taken already in this unit of work is as it left it
            folds.rows.setdefault(row["id"], row)
        folds.incidents[near] = [row["id"] for row in rows]
    return [open_incident(folds.rows[i]) for i in folds.incidents[near]]


async def _join(order: WorkOrder, incident_id: str, uow: UnitOfWork, at: datetime) -> None:
    """The incident takes the report: its first report leads it (an incident declared from
    the grid side gets its crew through it); with a lead, a report of the same equipment
    confirms a suspected fault."""
    updates = _incident_updates(uow)
    folds: Folds | None = uow.session.info.get(FOLDS)
    was = folds.rows.get(incident_id) if folds is not None else None
    if was is not None and was["lead_work_order_id"] is not None:
        # Locked and led: the report's change is known here and written at the commit.
        confirms = was["status"] == "suspected"
        now = was | {
            "last_report_at": at,
            "status": "confirmed" if confirms else was["status"],
            "confirmed_at": at if confirms else was["confirmed_at"],
        }
        note_update(uow.session, incidents.name, [now], before=[was])
        updates.taken[incident_id] = now
    else:
        # One statement: the incident takes the report and answers as it now is.
        outages = OutageRepository(uow.session)
        if (taken := updates.taken.pop(incident_id, None)) is not None:
            await outages.write_reports_taken([taken])  # a call's, taken before it: first
        joined = await outages.take_report(incident_id, order.id, at)
        now = dict(joined._mapping)
    if folds is not None and was is not None:
        folds.rows[incident_id] = now
    order.link_to(incident_id, lead=now["lead_work_order_id"] == order.id)
    updates.add(incident_id, order.ticket_id, at, now)


async def _declare_from_report(
    order: WorkOrder,
    earlier: list[WorkOrder],
    command: commands.CreateWorkOrder,
    transformer_id: str | None,
    feeder_id: str | None,
    uow: UnitOfWork,
    settings: DispatchSettings,
    at: datetime,
) -> None:
    """A new incident over the equipment. With earlier reports of homes under it, the earliest
    (already crewed) leads and the others fold in; otherwise this report leads."""
    outages = OutageRepository(uow.session)
    orders = WorkOrderRepository(uow.session)
    incident_id = str(uuid.uuid4())
    lead = earlier[0] if earlier else order
    for other in earlier:
        other.link_to(incident_id, lead=other is lead)
        await orders.save(other)
    order.link_to(incident_id, lead=lead is order)
    if (folds := uow.session.info.get(FOLDS)) is not None:
        # The transformer's incidents read again by its next report, this one locked with them.
        folds.incidents.pop((order.unit_id, transformer_id, feeder_id), None)
    radius = None if transformer_id else settings.outage_radius_m
    area_name = await orders.area_name(command.area_code)
    await outages.add(
        id=incident_id,
        unit_id=order.unit_id,
        status="confirmed" if earlier else "suspected",
        confirmed_at=at if earlier else None,
        transformer_id=transformer_id,
        feeder_id=feeder_id,
        latitude=command.latitude,
        longitude=command.longitude,
        radius_m=radius,
        declared_at=at,
        last_report_at=at,
        lead_work_order_id=lead.id,
        area_code=command.area_code,
    )
    uow.emit(
        OutageDeclaredV1(
            incident_id=incident_id,
            declared_at=at,
            unit_id=order.unit_id,
            transformer_id=transformer_id,
            feeder_id=feeder_id,
            area_codes=[command.area_code] if command.area_code else [],
            area_names=[area_name] if area_name else [],
            meter_nos=await outages.meters_under(
                transformer_id, feeder_id, limit=settings.outage_meter_list_max
            ),
            status="confirmed" if earlier else "suspected",
            latitude=command.latitude,
            longitude=command.longitude,
            radius_m=radius,
        )
    )
    # Its first tickets: each later update names only the tickets it adds.
    uow.emit(
        OutageUpdatedV2(
            incident_id=incident_id,
            updated_at=at,
            added_ticket_ids=[*(o.ticket_id for o in earlier), order.ticket_id],
            status="confirmed" if earlier else "suspected",
        )
    )


class DuplicateIncident(Exception):
    def __init__(self, incident_id: str) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id


async def declare_incident(
    command: commands.DeclareIncident, uow: UnitOfWork, *, settings: DispatchSettings
) -> str:
    """A fault known before (or without) the calls: a feeder trip from the outage-management
    system, a transformer seen burning. Reports under it fold in; the first one gets the crew."""
    outages = OutageRepository(uow.session)
    key = ClusterKey(command.transformer_id, command.feeder_id, command.latitude, command.longitude)
    await outages.lock(key)
    for inc in await outages.open_incidents(command.unit_id):
        same_transformer = command.transformer_id and inc.transformer_id == command.transformer_id
        same_feeder = (
            not command.transformer_id
            and command.feeder_id
            and (inc.feeder_id == command.feeder_id and inc.transformer_id is None)
        )
        if same_transformer or same_feeder:
            raise DuplicateIncident(inc.id)
    incident_id, at = str(uuid.uuid4()), clock.now()
    await outages.add(
        id=incident_id,
        unit_id=command.unit_id,
        transformer_id=command.transformer_id,
        feeder_id=command.feeder_id,
        latitude=command.latitude,
        longitude=command.longitude,
        radius_m=command.radius_m,
        declared_at=at,
        last_report_at=at,
        expected_restore_at=command.expected_restore_at,
        cause=command.cause,
        # Known from the grid side (or a supervisor who saw it): no longer a suspicion.
        status="confirmed",
        confirmed_at=at,
    )
    uow.emit(
        OutageDeclaredV1(
            incident_id=incident_id,
            declared_at=at,
            unit_id=command.unit_id,
            transformer_id=command.transformer_id,
            feeder_id=command.feeder_id,
            status="confirmed",
            meter_nos=await outages.meters_under(
                command.transformer_id, command.feeder_id, limit=settings.outage_meter_list_max
            ),
            latitude=command.latitude,
            longitude=command.longitude,
            radius_m=command.radius_m,
            expected_restore_at=command.expected_restore_at,
        )
    )
    return incident_id


async def _assign(
    order: WorkOrder,
    uow: UnitOfWork,
    settings: DispatchSettings,
    at: datetime,
    *,
    reason: str,
    exclude: frozenset[str] = frozenset(),
    actor: str = SYSTEM,
    crews: list[CrewState] | None = None,
) -> bool:
    """Offer the order to the crew choose_crew picks among the unit's (`crews`, when the caller
    read them already)."""
    if crews is None:
        crews = await CrewRepository(uow.session).states(order.unit_id)
    crew = choose_crew(
        crews,
        unit_id=order.unit_id,
        at=at,
        latitude=order.latitude,
        longitude=order.longitude,
        exclude=exclude,
    )
    if crew is None:
        return False
    order.assign(
        crew.crew_id,
        at,
        at + timedelta(seconds=settings.acceptance_timeout_seconds),
        actor=actor,
        reason=reason,
    )
    return True


async def expire_acceptance(
    command: commands.ExpireAcceptance, uow: UnitOfWork, *, settings: DispatchSettings
) -> None:
    """The offered crew did not accept in time: offer the order to another crew, and say why."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(command.work_order_id, for_update=True)
    if (
        order is None
        or order.status != "assigned"
        or order.accept_by is None
        or order.accept_by > command.now
    ):
        return
    late_crew = order.crew_id
    reason = f"not accepted by {late_crew} before the deadline {order.accept_by.isoformat(timespec='seconds')}"
    tried = await orders.crews_tried(order.id)
    # Prefer crews that have not had this order yet; once all have, anyone but the late crew.
    moved = await _assign(
        order, uow, settings, command.now, reason=reason + "; reassigned", exclude=frozenset(tried)
    ) or await _assign(
        order,
        uow,
        settings,
        command.now,
        reason=reason + "; reassigned",
        exclude=frozenset({late_crew} if late_crew else ()),
    )
    if not moved:
        # Nobody else is on duty: keep offering it to the same crew, on record.
        assert late_crew is not None, "an assigned order has its crew"
        order.assign(
            late_crew,
            command.now,
            command.now + timedelta(seconds=settings.acceptance_timeout_seconds),
            actor=SYSTEM,
            reason=reason + "; no other crew on duty, offered again",
        )
    await orders.save(order)
    await publish(order, uow, recorded_at=command.now)


async def assign_waiting(
    command: commands.AssignWaiting, uow: UnitOfWork, *, settings: DispatchSettings
) -> bool:
    """An order that came in while no crew was on duty gets one as soon as one is."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(command.work_order_id, for_update=True)
    if order is None or order.status != "created" or not order.is_lead:
        return False
    at = clock.now()
    if not await _assign(order, uow, settings, at, reason="crew came on duty"):
        return False
    await orders.save(order)
    await publish(order, uow, recorded_at=at)
    return True


async def reassign(
    command: commands.Reassign, uow: UnitOfWork, *, settings: DispatchSettings
) -> WorkOrder:
    """A supervisor moves an order that is not yet accepted to a crew of their choosing."""
    order_id, crew_id, reason, actor = (
        command.work_order_id,
        command.crew_id,
        command.reason,
        command.actor,
    )
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(order_id)
    crew = await CrewRepository(uow.session).get(crew_id)
    if crew is None:
        raise NotFound(crew_id)
    at = clock.now()
    order.assign(
        crew_id,
        at,
        at + timedelta(seconds=settings.acceptance_timeout_seconds),
        actor=actor,
        reason=f"supervisor: {reason}",
    )
    await orders.save(order)
    await publish(order, uow, recorded_at=at)
    return order


async def crew_transition(
    command: commands.CrewTransition,
    uow: UnitOfWork,
    *,
    settings: DispatchSettings,
) -> WorkOrder:
    """A crew member's step on their own order. The time recorded is the device's, checked
    against the order's history first (a refused time writes nothing); the server's receipt
    time is kept beside it. Photos (filename, content type, bytes) are kept with the order."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(command.work_order_id, for_update=True)
    if order is None or order.crew_id != command.crew_id:
        raise NotFound(command.work_order_id)
    who, received = command.member_id, clock.now()
    history = await orders.history(order.id)
    at = check_step_time(
        command.device_time,
        now=received,
        created_at=order.created_at,
        last_server_step_at=max(
            (h.at for h in history if not is_crew_step(h.status, h.previous_status)),
            default=None,
        ),
        last_crew_step_at=max(
            (h.at for h in history if is_crew_step(h.status, h.previous_status)), default=None
        ),
        offline_window_seconds=settings.device_offline_window_seconds,
        skew_seconds=settings.device_clock_skew_seconds,
    )
    match command.action:
        case "accept":
            order.accept(at, who)
        case "en_route":
            order.set_off(at, who)
        case "on_site":
            order.arrive(at, who, command.latitude, command.longitude)
        case "resolve":
            order.resolve(
                at,
                who,
                cause=command.cause or "",
                notes=command.notes,
                customer_installation=command.customer_installation,
            )
        case "return":
            order.return_(at, who)
        case "cancel":
            # Asked, not done: the order and the customer's clock run on until the duty
            # dispatcher answers (cancel_work_order or refuse_cancel).
            order.request_cancel(at, who, command.reason or "")
        case _:
            raise ValueError(command.action)
    await orders.save(order)
    for filename, content_type, data in command.photos:
        await orders.add_attachment(
            id=str(uuid.uuid4()),
            work_order_id=order.id,
            filename=filename,
            content_type=content_type,
            size=len(data),
            data=data,
            uploaded_at=at,
        )
    if command.action == "cancel":
        await _note_in_history(
            orders,
            order,
            at,
            who,
            f"{CANCEL_REQUESTED}: {order.cancel_reason}",
            recorded_at=received,
        )
        # Told on the stream: the duty dispatcher's board shows the request as it comes.
        uow.emit(
            WorkOrderCancelRequestedV1(
                work_order_id=order.id,
                ticket_id=order.ticket_id,
                unit_id=order.unit_id,
                crew_id=order.crew_id,
                requested_at=at,
                actor=who,
                reason=order.cancel_reason or "",
            )
        )
        return order
    await publish(order, uow, recorded_at=received)
    await _after_step(order, command.action, at, who, uow, settings)
    return order


async def _after_step(
    order: WorkOrder,
    action: str,
    at: datetime,
    actor: str,
    uow: UnitOfWork,
    settings: DispatchSettings,
) -> None:
    """What an order's step means for the work linked to it: the incident it leads, and the
    repeat-call consultations linked to it."""
    if action == "cancel":
        # A return's links are let go when it passes review (review_return).
        await _release_links(
            uow, at, "work_order_cancelled", work_order_ids=[order.id], unit_id=order.unit_id
        )
    if not order.incident_id or not order.is_lead:
        return
    outages = OutageRepository(uow.session)
    row = await outages.get(order.incident_id, for_update=True)
    if row is None or row.status not in INCIDENT_OPEN or row.lead_work_order_id != order.id:
        return
    if action == "on_site" and row.status != "crew_on_site":
        await outages.update(row.id, status="crew_on_site", crew_on_site_at=at)
        uow.emit(
            OutageUpdatedV2(
                incident_id=row.id,
                updated_at=at,
                expected_restore_at=row.expected_restore_at,
                cause=row.cause,
                status="crew_on_site",
            )
        )
    elif action == "return" and order.resolution == RESOLUTION_REPAIRED:
        # The lead crew fixed the shared fault: the incident is restored with its return.
        await _restore(
            commands.RestoreIncident(row.id, at, actor, order.cause, restored_by="lead_crew"),
            uow,
            row,
        )
    elif action in ("return", "cancel"):
        # The lead turned out to be its own matter (its own installation, or not needed): the
        # next report of the incident leads, with a crew.
        await _promote_next_lead(row.id, uow, settings)


async def _promote_next_lead(incident_id: str, uow: UnitOfWork, settings: DispatchSettings) -> None:
    outages = OutageRepository(uow.session)
    orders = WorkOrderRepository(uow.session)
    at = clock.now()
    followers = [
        o for o in await outages.orders(incident_id) if o.status in OPEN_STATUSES and not o.is_lead
    ]
    if not followers:
        await outages.update(incident_id, lead_work_order_id=None)
        return
    lead = followers[0]
    lead.lead_incident(at)
    await _assign(lead, uow, settings, at, reason="now leads the incident")
    await orders.save(lead)
    await publish(lead, uow, recorded_at=at)
    await outages.update(incident_id, lead_work_order_id=lead.id)


async def cancel_work_order(
    command: commands.CancelWorkOrder, uow: UnitOfWork, *, settings: DispatchSettings
) -> WorkOrder:
    """A supervisor cancels an order that is not needed, with a reason (audited)."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(command.work_order_id, for_update=True)
    if order is None:
        raise NotFound(command.work_order_id)
    at = clock.now()
    order.cancel(at, command.actor, command.reason)
    await orders.save(order)
    await publish(order, uow, recorded_at=at)
    if order.needs_routing:
        metrics.ORDERS_NEEDING_ROUTING.dec()
    await _after_step(order, "cancel", at, command.actor, uow, settings)
    return order


# The history's note of a return that passed review (the order stays `returned`).
RETURN_APPROVED = "return approved"
# The history's notes of a crew's request to cancel and of its refusal (the status stays).
CANCEL_REQUESTED = "cancellation requested"
CANCEL_REFUSED = "cancellation refused"


async def refuse_cancel(
    command: commands.RefuseCancel, uow: UnitOfWork, *, settings: DispatchSettings
) -> WorkOrder:
    """The duty dispatcher refuses a crew's request to cancel: the crew goes on with the order,
    told why on its phone."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(command.work_order_id, for_update=True)
    if order is None:
        raise NotFound(command.work_order_id)
    at = clock.now()
    order.refuse_cancel(at, command.reason)
    await orders.save(order)
    await _note_in_history(orders, order, at, command.actor, f"{CANCEL_REFUSED}: {command.reason}")
    uow.emit(
        WorkOrderCancelRefusedV1(
            work_order_id=order.id,
            ticket_id=order.ticket_id,
            unit_id=order.unit_id,
            crew_id=order.crew_id,
            refused_at=at,
            actor=command.actor,
            reason=command.reason,
        )
    )
    return order


async def review_return(
    command: commands.ReviewReturn, uow: UnitOfWork, *, settings: DispatchSettings
) -> WorkOrder:
    """The duty dispatcher passes a crew's return (the ticket closes and goes to callback, and
    the repeat-call consultations linked to the order with it) or sends it back to the crew."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(command.work_order_id, for_update=True)
    if order is None:
        raise NotFound(command.work_order_id)
    at = clock.now()
    if not command.approved:
        order.send_back_return(at, command.actor, command.reason or "")
        await orders.save(order)
        await publish(order, uow, recorded_at=at)  # its history: back on site, with the reason
        return order
    order.approve_return(at, command.actor)
    await orders.save(order)
    await _note_in_history(
        orders,
        order,
        at,
        command.actor,
        f"{RETURN_APPROVED}: {command.reason}" if command.reason else RETURN_APPROVED,
    )
    await publish(order, uow, recorded_at=at)
    await _release_links(
        uow, at, "work_order_returned", work_order_ids=[order.id], unit_id=order.unit_id
    )
    return order


async def _note_in_history(
    orders: WorkOrderRepository,
    order: WorkOrder,
    at: datetime,
    actor: str,
    reason: str,
    *,
    recorded_at: datetime | None = None,
) -> None:
    """An act that leaves the order's status as it was (a dispatcher's, or a crew's request
    timed by its phone and received at `recorded_at`), in its history with why."""
    await orders.record_history(
        history_row(
            order=order,
            status=order.status,
            previous_status=order.status,
            at=at,
            recorded_at=recorded_at or at,
            actor=actor,
            reason=reason,
            latitude=None,
            longitude=None,
        )
    )


async def route_by_hand(
    command: commands.RouteWorkOrder, uow: UnitOfWork, *, settings: DispatchSettings
) -> WorkOrder:
    """The duty dispatcher routes an order no service area mapped: to a unit, which then gets
    a crew at once when one is on duty."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(command.work_order_id, for_update=True)
    if order is None:
        raise NotFound(command.work_order_id)
    if not order.needs_routing:
        raise AlreadyRouted(command.work_order_id)
    if command.unit_id not in {u.unit_id for u in await CrewRepository(uow.session).units()}:
        raise NotFound(command.unit_id)
    at = clock.now()
    order.route_to(ServiceArea(order.area_code or "*", command.unit_id, command.area_class))
    await _note_in_history(
        orders, order, at, command.actor, f"routed by hand to {command.unit_id}: {command.reason}"
    )
    uow.emit(
        WorkOrderRoutedV1(
            work_order_id=order.id,
            ticket_id=order.ticket_id,
            unit_id=order.unit_id,
            area_class=order.area_class,
            routed_at=at,
            actor=command.actor,
            reason=command.reason,
        )
    )
    await _assign(order, uow, settings, at, reason="routed by hand")
    await orders.save(order)
    await publish(order, uow, recorded_at=at)
    metrics.ORDERS_NEEDING_ROUTING.dec()
    return order


class AlreadyRouted(Exception):
    pass


async def reopen(
    command: commands.ReopenRepair, uow: UnitOfWork, *, settings: DispatchSettings
) -> WorkOrder | None:
    """An unsatisfied callback on a repair: a new order of the same ticket, linked to the first,
    routed again and crewed, with its own arrival clock from the reopen request."""
    orders = WorkOrderRepository(uow.session)
    first = await orders.for_ticket(command.ticket_id)
    base: dict
    if first is not None:
        if first.status in OPEN_STATUSES:
            return None  # still being worked: nothing to reopen
        base = {
            "area_code": first.area_code,
            "address": first.address,
            "meter_no": first.meter_no,
            "latitude": first.latitude,
            "longitude": first.longitude,
            "ticket_no": first.ticket_no,
            "caller_name": first.caller_name,
            "phone": first.phone,
            "description": first.description,
            "fault_scope": first.fault_scope,
            "fault_started_at": first.fault_started_at,
        }
        reopened_from: str | None = first.id
    else:
        link = await LinkRepository(uow.session).get(command.ticket_id)
        if link is None:
            return None
        base = _link_details(link)
        reopened_from = link.work_order_id or await _lead_of(link.incident_id, uow)
    return await _new_order(
        command.ticket_id,
        base,
        uow,
        settings,
        reported_at=command.requested_at,
        reopened_from=reopened_from,
        reason=f"reopened after callback: {command.reason}",
    )


def _link_details(link) -> dict:
    return {**{k: getattr(link, k) for k in commands.LINK_DETAILS}, "fault_scope": "own_home"}


async def _new_order(
    ticket_id: str,
    base: dict,
    uow: UnitOfWork,
    settings: DispatchSettings,
    *,
    reported_at: datetime,
    reopened_from: str | None,
    reason: str,
) -> WorkOrder:
    """An order of its own for a ticket that had none or whose order is done: routed, crewed,
    its arrival clock from `reported_at`."""
    orders = WorkOrderRepository(uow.session)
    at = clock.now()
    area = route(base["area_code"], await _routing_table(base["area_code"], orders, settings))
    order = WorkOrder.create(
        id=new_id(),
        ticket_id=ticket_id,
        unit_id=area.unit_id if area else NEEDS_ROUTING_UNIT,
        area_class=area.area_class if area else UNROUTED_AREA_CLASS,
        created_at=at,
        reported_at=min(reported_at, at),
        reopened_from=reopened_from,
        needs_routing=area is None,
        **base,
    )
    if area is not None:
        await _assign(order, uow, settings, at, reason=reason)
    await publish(order, uow, recorded_at=at, new=True)
    if area is None:
        metrics.ORDERS_NEEDING_ROUTING.inc()
    return order


async def _lead_of(incident_id: str | None, uow: UnitOfWork) -> str | None:
    if not incident_id:
        return None
    row = await OutageRepository(uow.session).get(incident_id)
    return row.lead_work_order_id if row else None


async def record_link(
    command: commands.RecordLink, uow: UnitOfWork, *, settings: DispatchSettings
) -> None:
    """Intake recorded a repeat call as a consultation linked to an incident or to a repair:
    the incident (or the order) now knows it, and releases it to callback when done."""
    if command.incident_id and not command.linked_ticket_id:
        # A storm's repeat call, linked to the known outage: taken by the incident locked for
        # the batch (Folds), its link written with the batch's others at the commit.
        unit_id = await _take_link(command.incident_id, command, uow)
        if unit_id is not None:
            link = {
                "ticket_id": command.ticket_id,
                "incident_id": command.incident_id,
                "unit_id": unit_id,
                "linked_at": command.linked_at,
                **command.details,
            }
            _new_links(uow).rows[command.ticket_id] = link
            note_insert(uow.session, incident_links.name, [link])
            return
    # It reads what the batch's other handlers gathered to write (the orders, the links).
    await _others_first(uow)
    links = LinkRepository(uow.session)
    orders = WorkOrderRepository(uow.session)
    outages = OutageRepository(uow.session)
    incident_id, work_order_id, unit_id, finished = command.incident_id, None, None, False
    row = None
    if command.linked_ticket_id:
        order = await orders.for_ticket(command.linked_ticket_id)
        if order is not None:
            work_order_id, unit_id = order.id, order.unit_id
            incident_id = incident_id or order.incident_id
            finished = order.status not in OPEN_STATUSES
    if incident_id:
        # An open incident takes the call in one statement (a storm links thousands to one);
        # one that is over, or not there, is read as it is.
        taken = await outages.take_link(incident_id, command.linked_at)
        if taken is not None:
            unit_id, finished = taken.unit_id, False
            if taken.confirmed:  # another caller under the same equipment: the fault is shared
                uow.emit(
                    OutageUpdatedV2(
                        incident_id=incident_id,
                        updated_at=command.linked_at,
                        expected_restore_at=taken.expected_restore_at,
                        added_ticket_ids=[command.ticket_id],
                        cause=taken.cause,
                        status="confirmed",
                    )
                )
        elif (row := await outages.get(incident_id, for_update=True)) is not None:
            unit_id = row.unit_id
            finished = row.status not in INCIDENT_OPEN
    await links.add(
        ticket_id=command.ticket_id,
        incident_id=incident_id,
        work_order_id=work_order_id,
        linked_ticket_id=command.linked_ticket_id,
        unit_id=unit_id,
        linked_at=command.linked_at,
        **command.details,
    )
    if incident_id and finished and row is not None and row.status == "cancelled":
        # Linked to an incident found not to be one: the caller's report is a repair of its own.
        await links.release(clock.now(), ticket_ids=[command.ticket_id])
        link = await links.get(command.ticket_id)
        await _new_order(
            command.ticket_id,
            _link_details(link),
            uow,
            settings or DispatchSettings(),
            reported_at=command.linked_at,
            reopened_from=None,
            reason="incident cancelled: own repair",
        )
        return
    if finished:
        # Linked to work that had already finished when we heard of it: released at once.
        await _release_links(
            uow,
            clock.now(),
            "incident_restored" if incident_id else "work_order_returned",
            ticket_ids=[command.ticket_id],
            unit_id=unit_id,
        )


async def _take_link(incident_id: str, command: commands.RecordLink, uow: UnitOfWork) -> str | None:
    """The open incident takes the repeat call (take_link's change, made on the row as this
    unit of work holds it locked: its last report the later of its own and the call's, a
    suspected fault confirmed and told so); its unit, or None when it is not open."""
    folds: Folds = uow.session.info.setdefault(FOLDS, Folds())
    was = folds.rows.get(incident_id)
    if was is None:
        was = await OutageRepository(uow.session).locked_incident(incident_id)
        if was is None:
            return None
    at = command.linked_at
    confirms = was["status"] == "suspected"
    now = was | {
        "last_report_at": max(was["last_report_at"], at),
        "status": "confirmed" if confirms else was["status"],
        "confirmed_at": at if confirms else was["confirmed_at"],
    }
    note_update(uow.session, incidents.name, [now], before=[was])
    folds.rows[incident_id] = now
    updates = _incident_updates(uow)
    updates.taken[incident_id] = now
    if confirms:  # another caller under the same equipment: the fault is shared
        updates.add(incident_id, command.ticket_id, at, now)
    return str(was["unit_id"])


@dataclass
class NewLinks:
    """A consumer batch's repeat calls linked to open incidents, inserted in one statement at
    commit (each cost its INSERT). Every other handler, and record_link for any other link,
    writes them first (written_new_links): it may read the links."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ticket


def _new_links(uow: UnitOfWork) -> NewLinks:
    return uow.gathered(NEW_LINKS, NewLinks, lambda _: written_new_links(uow))


async def written_new_links(uow: UnitOfWork) -> None:
    await written_new_orders(uow)  # the batch's orders first, as one by one wrote them
    new: NewLinks | None = uow.session.info.pop(NEW_LINKS, None)
    if new is not None and new.rows:
        await LinkRepository(uow.session).add_many(list(new.rows.values()))


async def _release_links(
    uow: UnitOfWork,
    at: datetime,
    reason: ReleaseReason,
    *,
    unit_id: str | None,
    ticket_ids: list[str] | None = None,
    incident_id: str | None = None,
    work_order_ids: list[str] | None = None,
) -> list[str]:
    links = LinkRepository(uow.session)
    released = await links.release(
        at, ticket_ids=ticket_ids, incident_id=incident_id, work_order_ids=work_order_ids
    )
    for link in released:
        uow.emit(
            LinkedTicketReleasedV1(
                ticket_id=link.ticket_id,
                released_at=at,
                reason=reason,
                unit_id=link.unit_id or unit_id,
                work_order_id=link.work_order_id,
                incident_id=link.incident_id,
            )
        )
    return [link.ticket_id for link in released]


def arrival_due(order: WorkOrder) -> datetime | None:
    """When the crew must be on site: the arrival limit of the order's area class in the pack
    in force at the ticket's 受理, counted as the SLA monitor counts the clock it opens for the
    same order (brightline.calendar.policy, the one source both read). The monitor stays the
    judge of a breach; the crew and the repair need not wait for its event to know the time.
    None when no pack is in force then (the monitor opens no clock either)."""
    opened = order.reported_at or order.created_at
    try:
        limit = adopted_book().limit_for(f"{ARRIVAL_CLOCK}{order.area_class}", opened)
    except (NoPolicyInForce, KeyError):
        log.warning("no arrival limit for order %s (%s)", order.id, order.area_class)
        return None
    due, _ = limit_due(limit, opened)
    return due.astimezone(UTC)


def _opens_an_arrival_clock(order: WorkOrder) -> bool:
    """Whether the SLA monitor opens the order's arrival clock for what it is told now: an
    order created to lead (a follower of an incident has the lead's one clock), or a follower
    that comes to stand for itself (promoted)."""
    return any(
        (isinstance(event, events.WorkOrderCreated) and order.is_lead)
        or isinstance(event, events.Promoted)
        for event in order.events
    )


def _arrive_by_at_commit(order: WorkOrder, uow: UnitOfWork) -> None:
    """An order already written gets its arrival deadline at commit, with the unit of work's
    others in one statement (one each cost a statement, its ORM execution and its capture)."""
    arrivals: dict[str, datetime] = uow.gathered(
        ARRIVALS, dict, lambda due: _arrivals_written(due, uow)
    )
    assert order.arrive_by is not None
    arrivals[order.id] = order.arrive_by
    note_update(uow.session, work_orders.name, [{"id": order.id, "arrive_by": order.arrive_by}])


async def _arrivals_written(due: dict[str, datetime], uow: UnitOfWork) -> None:
    await written_new_orders(uow)  # the batch's orders first, as one by one wrote them
    await WorkOrderRepository(uow.session).set_arrive_by(due)


async def set_expected_restoration(
    command: commands.SetExpectedRestoration, uow: UnitOfWork
) -> None:
    row = await OutageRepository(uow.session).set_restoration(
        command.incident_id, command.expected_restore_at, command.cause
    )
    if row is None:
        raise NotFound(command.incident_id)
    uow.emit(
        OutageUpdatedV2(
            incident_id=command.incident_id,
            updated_at=clock.now(),
            expected_restore_at=command.expected_restore_at,
            cause=row.cause,
        )
    )


class AlreadyRestored(Exception):
    def __init__(self, incident_id: str, status: str) -> None:
        super().__init__(incident_id)
        self.status = status


class BadRestorationTime(ValueError):
    pass


async def restore_incident(command: commands.RestoreIncident, uow: UnitOfWork) -> list[WorkOrder]:
    """Power is back (the grid side says so, or a supervisor): the incident closes, every order
    of it is resolved and returned at once, and every linked consultation is released: each
    ticket goes on to its own callback."""
    outages = OutageRepository(uow.session)
    row = await outages.get(command.incident_id, for_update=True)
    if row is None:
        raise NotFound(command.incident_id)
    if row.status not in INCIDENT_OPEN:
        raise AlreadyRestored(command.incident_id, row.status)
    if command.restored_at < row.declared_at - timedelta(hours=24):
        raise BadRestorationTime(
            f"restored_at {command.restored_at.isoformat()} is long before the incident was "
            f"declared ({row.declared_at.isoformat()})"
        )
    if command.restored_at > clock.now() + timedelta(minutes=5):
        raise BadRestorationTime(f"restored_at {command.restored_at.isoformat()} is in the future")
    return await _restore(command, uow, row)


async def _restore(command: commands.RestoreIncident, uow: UnitOfWork, row) -> list[WorkOrder]:
    outages = OutageRepository(uow.session)
    cause = command.cause or row.cause
    orders = WorkOrderRepository(uow.session)
    finished = []
    recorded_at = clock.now()
    incident_orders = await outages.orders(command.incident_id)
    for order in incident_orders:
        order.restore_with_outage(command.restored_at, command.actor, cause)
        if order.events:
            await orders.save(order)
            await publish(order, uow, recorded_at=recorded_at)
            finished.append(order)
    await outages.update(
        command.incident_id,
        status="restored",
        restored_at=command.restored_at,
        cause=cause,
        restored_by=command.restored_by,
        closed_by=command.actor,
    )
    linked = await _release_links(
        uow,
        command.restored_at,
        "incident_restored",
        unit_id=row.unit_id,
        incident_id=command.incident_id,
        work_order_ids=[o.id for o in incident_orders],
    )
    uow.emit(
        OutageRestoredV1(
            incident_id=command.incident_id,
            restored_at=command.restored_at,
            ticket_ids=list(dict.fromkeys([*(o.ticket_id for o in incident_orders), *linked])),
            restored_by=command.restored_by,
            actor=command.actor,
        )
    )
    return finished


async def cancel_incident(
    command: commands.CancelIncident, uow: UnitOfWork, *, settings: DispatchSettings
) -> list[WorkOrder]:
    """No shared fault after all: the incident closes as cancelled, and each open order folded
    into it becomes a repair of its own, with a crew."""
    outages = OutageRepository(uow.session)
    row = await outages.get(command.incident_id, for_update=True)
    if row is None:
        raise NotFound(command.incident_id)
    if row.status not in INCIDENT_OPEN:
        raise AlreadyRestored(command.incident_id, row.status)
    at = clock.now()
    orders = WorkOrderRepository(uow.session)
    released = []
    incident_orders = await outages.orders(command.incident_id)
    for order in incident_orders:
        if order.status not in OPEN_STATUSES:
            continue
        was_lead = order.is_lead
        order.release_from_incident(at)
        if not was_lead and order.status == "created":
            await _assign(order, uow, settings, at, reason="incident cancelled: own repair")
        await orders.save(order)
        await publish(order, uow, recorded_at=at)
        released.append(order)
    # Repeat calls intake linked to the incident were reports of no power too: each caller
    # gets a repair of their own, with a crew, its clock from their call.
    links = LinkRepository(uow.session)
    for link in await links.release(at, incident_id=command.incident_id, without_order=True):
        released.append(
            await _new_order(
                link.ticket_id,
                _link_details(link),
                uow,
                settings,
                reported_at=link.linked_at,
                reopened_from=None,
                reason="incident cancelled: own repair",
            )
        )
    await outages.update(
        command.incident_id,
        status="cancelled",
        cancelled_at=at,
        cancel_reason=command.reason,
        closed_by=command.actor,
    )
    uow.emit(
        OutageCancelledV1(
            incident_id=command.incident_id,
            cancelled_at=at,
            reason=command.reason,
            actor=command.actor,
            ticket_ids=[o.ticket_id for o in incident_orders],
        )
    )
    return released


async def publish(
    order: WorkOrder,
    uow: UnitOfWork,
    *,
    recorded_at: datetime,
    new: bool = False,
    batched: bool = False,
) -> None:
    """Record the order's history and turn its domain events into integration events. A `new`
    order is inserted here, its first history row riding on its INSERT (one round trip); a
    `batched` one with the unit of work's other new orders at its commit (NewOrders)."""
    if _opens_an_arrival_clock(order) and (due := arrival_due(order)) is not None:
        order.arrive_by = due
        if not new:  # saved already: its deadline goes in at commit
            _arrive_by_at_commit(order, uow)
    orders = WorkOrderRepository(uow.session)
    history = [
        history_row(
            order=order,
            status=event.status,
            previous_status=event.previous_status,
            at=event.at,
            recorded_at=recorded_at,
            actor=event.actor,
            reason=event.reason,
            latitude=event.latitude,
            longitude=event.longitude,
        )
        for event in order.events
        if isinstance(event, events.StatusChanged)
    ]
    if new and batched:
        gathered = _new_orders(uow)
        row = order_row(order)
        gathered.orders[order.ticket_id] = order
        gathered.rows.append(row)
        gathered.history += history
        # Each event's rows in the audit trail, the order first, as its own INSERT gave them.
        note_insert(uow.session, work_orders.name, [row])
        for entry in history:
            note_insert(uow.session, work_order_history.name, [entry])
        history = []
    elif new:
        await orders.add(order, history=history.pop(0) if history else None)
    for row in history:
        await orders.record_history(row)
    folded = _folded_into_creation(order.events)
    for event in order.events:
        if event is folded:
            continue  # said by the created event
        if isinstance(event, events.WorkOrderCreated):
            uow.emit(
                WorkOrderCreatedV2(
                    work_order_id=order.id,
                    ticket_id=order.ticket_id,
                    unit_id=order.unit_id,
                    area_class=order.area_class,
                    created_at=order.created_at,
                    reported_at=order.reported_at,
                    is_lead=order.is_lead,
                    incident_id=order.incident_id,
                    reopened_from_work_order_id=order.reopened_from,
                    needs_routing=order.needs_routing,
                    status=folded.status if folded else "created",
                    crew_id=folded.crew_id if folded else None,
                    status_changed_at=folded.at if folded else None,
                    status_actor=folded.actor if folded else None,
                    status_reason=folded.reason if folded else None,
                    arrive_by=order.arrive_by,
                )
            )
        elif isinstance(event, events.StatusChanged):
            uow.emit(
                WorkOrderStatusChangedV1(
                    work_order_id=order.id,
                    ticket_id=order.ticket_id,
                    unit_id=order.unit_id,
                    status=event.status,
                    previous_status=event.previous_status,
                    changed_at=event.at,
                    crew_id=event.crew_id,
                    actor=event.actor,
                    reason=event.reason,
                    latitude=event.latitude,
                    longitude=event.longitude,
                )
            )
        elif isinstance(event, events.Promoted):
            uow.emit(
                WorkOrderPromotedV2(
                    work_order_id=order.id,
                    ticket_id=order.ticket_id,
                    unit_id=order.unit_id,
                    area_class=order.area_class,
                    reported_at=order.reported_at or order.created_at,
                    promoted_at=event.at,
                    reason=event.reason,
                    incident_id=event.incident_id,
                    arrive_by=order.arrive_by,
                )
            )
        elif isinstance(event, events.Returned):
            uow.emit(
                WorkOrderReturnedV1(
                    work_order_id=order.id,
                    ticket_id=order.ticket_id,
                    unit_id=order.unit_id,
                    returned_at=event.at,
                    resolution=event.resolution,
                    cause=order.cause,
                    incident_id=order.incident_id,
                    reviewed_at=order.reviewed_at,
                    reviewed_by=order.reviewed_by,
                )
            )
    order.events.clear()


def _folded_into_creation(happened: list[events.DomainEvent]) -> events.StatusChanged | None:
    """The status change of an order's creating step (a new repair offered to a crew at once),
    said by its created event (WorkOrderCreatedV2) instead of an event of its own: every
    consumer of the two paid a Kafka record, an inbox row and an audit row for the second."""
    if len(happened) < 2 or not isinstance(happened[0], events.WorkOrderCreated):
        return None
    change = happened[1]
    if (
        isinstance(change, events.StatusChanged)
        and change.previous_status == "created"
        and change.latitude is None
        and change.longitude is None
    ):
        return change
    return None


def _after_new_orders(handler: Handler) -> Handler:
    """The handler, run after the unit of work's new orders are written (NewOrders): it reads
    orders or crews from the table, as one by one it would have seen them there; and after its
    joins are told (IncidentUpdates): what it tells of an incident comes after them."""

    @functools.wraps(handler)
    async def handled(command: Any, uow: UnitOfWork, **dependencies: Any) -> Any:
        await _others_first(uow)
        return await handler(command, uow, **dependencies)

    return handled


async def _others_first(uow: UnitOfWork) -> None:
    """What the batch's handlers gathered to write at the commit, written now (for a handler
    that reads the table) in the order one by one wrote it: orders, links, then incidents."""
    await written_new_orders(uow)
    await written_new_links(uow)
    await told_incident_updates(uow)


# These write what the batch gathered themselves when they read it: the rest first.
_SEES_NEW_ORDERS = (commands.CreateWorkOrder, commands.RecordLink)
_HANDLERS: dict[type, Handler] = {
    commands.CreateWorkOrder: create_work_order,
    commands.CrewTransition: crew_transition,
    commands.ExpireAcceptance: expire_acceptance,
    commands.SetExpectedRestoration: set_expected_restoration,
    commands.RestoreIncident: restore_incident,
    commands.DeclareIncident: declare_incident,
    commands.CancelIncident: cancel_incident,
    commands.CancelWorkOrder: cancel_work_order,
    commands.ReviewReturn: review_return,
    commands.RefuseCancel: refuse_cancel,
    commands.RouteWorkOrder: route_by_hand,
    commands.ReopenRepair: reopen,
    commands.RecordLink: record_link,
    commands.AssignWaiting: assign_waiting,
    commands.Reassign: reassign,
}
HANDLERS: dict[type, Handler] = {
    kind: handler if kind in _SEES_NEW_ORDERS else _after_new_orders(handler)
    for kind, handler in _HANDLERS.items()
}


def message_bus(settings: DispatchSettings) -> MessageBus:
    return MessageBus(HANDLERS, settings=lambda: settings)
