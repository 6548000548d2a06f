"""Dispatch's use cases as plain functions over a unit of work. Entry points commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from brightline.contracts.events.dispatch import (
    OutageDeclaredV1,
    OutageRestoredV1,
    OutageUpdatedV1,
    WorkOrderCreatedV1,
    WorkOrderReturnedV1,
    WorkOrderStatusChangedV1,
)
from brightline.dispatch.adapters.repository import (
    CrewRepository,
    OutageRepository,
    WorkOrderRepository,
)
from brightline.dispatch.domain import commands, events
from brightline.dispatch.domain.model import (
    ClusterKey,
    ServiceArea,
    WorkOrder,
    choose_crew,
    is_no_power_report,
    matching_incident,
    route,
)
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging import UnitOfWork

# Calls from an area nobody mapped still get a crew: the city's central unit takes them.
FALLBACK_AREA = ServiceArea("*", "unit-central", "urban")
SYSTEM = "dispatch"


class NotFound(Exception):
    pass


def now() -> datetime:
    return datetime.now(UTC)


async def create_work_order(
    command: commands.CreateWorkOrder, uow: UnitOfWork, settings: DispatchSettings | None = None
) -> WorkOrder:
    settings = settings or DispatchSettings()
    orders = WorkOrderRepository(uow.session)
    existing = await orders.for_ticket(command.ticket_id)
    if existing:
        return existing
    at = now()
    area = route(command.area_code, await orders.service_areas(), FALLBACK_AREA)
    order = WorkOrder.create(
        id=str(uuid.uuid4()),
        ticket_id=command.ticket_id,
        unit_id=area.unit_id,
        area_class=area.area_class,
        created_at=at,
        latitude=command.latitude,
        longitude=command.longitude,
        meter_no=command.meter_no,
        address=command.address,
        description=command.description,
    )
    if is_no_power_report(command.fault_scope, command.meter_no):
        await _cluster(order, command, uow, settings, at)
    if order.is_lead:
        await _assign(order, uow, settings, at, reason="new order")
    await orders.add(order)
    await flush(order, uow, recorded_at=at)
    return order


async def _cluster(
    order: WorkOrder,
    command: commands.CreateWorkOrder,
    uow: UnitOfWork,
    settings: DispatchSettings,
    at: datetime,
) -> None:
    """Fold a 'no power' report into the open incident of its fault, or declare a new one
    with this order as the lead (the only one that gets a crew)."""
    outages = OutageRepository(uow.session)
    transformer_id, feeder_id = await outages.locate(command.meter_no)
    key = ClusterKey(transformer_id, feeder_id, command.latitude, command.longitude)
    if not transformer_id and (command.latitude is None or command.longitude is None):
        return  # nothing to place it by: an ordinary repair
    await outages.lock(key)
    incident = matching_incident(
        key,
        await outages.open_incidents(order.unit_id),
        at=at,
        radius_m=settings.outage_radius_m,
        window_seconds=settings.outage_window_seconds,
    )
    if incident is None:
        incident_id = str(uuid.uuid4())
        order.link_to(incident_id, lead=True)
        radius = None if transformer_id else settings.outage_radius_m
        await outages.add(
            id=incident_id,
            unit_id=order.unit_id,
            status="open",
            transformer_id=transformer_id,
            feeder_id=feeder_id,
            latitude=command.latitude,
            longitude=command.longitude,
            radius_m=radius,
            declared_at=at,
            last_report_at=at,
            lead_work_order_id=order.id,
        )
        uow.emit(
            OutageDeclaredV1(
                incident_id=incident_id,
                declared_at=at,
                unit_id=order.unit_id,
                transformer_id=transformer_id,
                feeder_id=feeder_id,
                area_codes=[command.area_code] if command.area_code else [],
                latitude=command.latitude,
                longitude=command.longitude,
                radius_m=radius,
            )
        )
        return
    row = await outages.get(incident.id)
    # An incident declared from the grid side (no report yet) gets its crew through its first report.
    lead = row.lead_work_order_id is None
    order.link_to(incident.id, lead=lead)
    await outages.update(
        incident.id, last_report_at=at, **({"lead_work_order_id": order.id} if lead else {})
    )
    linked = await outages.linked_ticket_ids(incident.id)
    uow.emit(
        OutageUpdatedV1(
            incident_id=incident.id,
            updated_at=at,
            expected_restore_at=row.expected_restore_at,
            linked_ticket_ids=[*linked, order.ticket_id],
            cause=row.cause,
        )
    )


class DuplicateIncident(Exception):
    def __init__(self, incident_id: str) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id


async def declare_incident(command: commands.DeclareIncident, uow: UnitOfWork) -> str:
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
    incident_id, at = str(uuid.uuid4()), now()
    await outages.add(
        id=incident_id,
        unit_id=command.unit_id,
        status="open",
        transformer_id=command.transformer_id,
        feeder_id=command.feeder_id,
        latitude=command.latitude,
        longitude=command.longitude,
        radius_m=command.radius_m,
        declared_at=at,
        last_report_at=at,
        expected_restore_at=command.expected_restore_at,
        cause=command.cause,
    )
    uow.emit(
        OutageDeclaredV1(
            incident_id=incident_id,
            declared_at=at,
            unit_id=command.unit_id,
            transformer_id=command.transformer_id,
            feeder_id=command.feeder_id,
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
) -> bool:
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
    command: commands.ExpireAcceptance, uow: UnitOfWork, settings: DispatchSettings
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
        order.assign(
            late_crew,
            command.now,
            command.now + timedelta(seconds=settings.acceptance_timeout_seconds),
            actor=SYSTEM,
            reason=reason + "; no other crew on duty, offered again",
        )
    await orders.save(order)
    await flush(order, uow, recorded_at=command.now)


async def assign_waiting(order_id: str, uow: UnitOfWork, settings: DispatchSettings) -> bool:
    """An order that came in while no crew was on duty gets one as soon as one is."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(order_id, for_update=True)
    if order is None or order.status != "created" or not order.is_lead:
        return False
    at = now()
    if not await _assign(order, uow, settings, at, reason="crew came on duty"):
        return False
    await orders.save(order)
    await flush(order, uow, recorded_at=at)
    return True


async def reassign(
    order_id: str,
    crew_id: str,
    reason: str,
    actor: str,
    uow: UnitOfWork,
    settings: DispatchSettings,
) -> WorkOrder:
    """A supervisor moves an order that is not yet accepted to a crew of their choosing."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(order_id)
    crew = await CrewRepository(uow.session).get(crew_id)
    if crew is None:
        raise NotFound(crew_id)
    at = now()
    order.assign(
        crew_id,
        at,
        at + timedelta(seconds=settings.acceptance_timeout_seconds),
        actor=actor,
        reason=f"supervisor: {reason}",
    )
    await orders.save(order)
    await flush(order, uow, recorded_at=at)
    return order


async def crew_transition(
    command: commands.CrewTransition,
    uow: UnitOfWork,
    photos: tuple[tuple[str, str, bytes], ...] = (),
) -> WorkOrder:
    """A crew member's step on their own order. The time recorded is the device's. Photos
    (filename, content type, bytes) taken on site are kept with the order."""
    orders = WorkOrderRepository(uow.session)
    order = await orders.get(command.work_order_id, for_update=True)
    if order is None or order.crew_id != command.crew_id:
        raise NotFound(command.work_order_id)
    at, who = command.device_time, command.member_id
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
        case _:
            raise ValueError(command.action)
    await orders.save(order)
    for filename, content_type, data in photos:
        await orders.add_attachment(
            id=str(uuid.uuid4()),
            work_order_id=order.id,
            filename=filename,
            content_type=content_type,
            size=len(data),
            data=data,
            uploaded_at=at,
        )
    await flush(order, uow, recorded_at=now())
    return order


async def set_expected_restoration(
    command: commands.SetExpectedRestoration, uow: UnitOfWork
) -> None:
    outages = OutageRepository(uow.session)
    row = await outages.get(command.incident_id, for_update=True)
    if row is None:
        raise NotFound(command.incident_id)
    at = now()
    await outages.update(
        command.incident_id,
        expected_restore_at=command.expected_restore_at,
        cause=command.cause or row.cause,
    )
    uow.emit(
        OutageUpdatedV1(
            incident_id=command.incident_id,
            updated_at=at,
            expected_restore_at=command.expected_restore_at,
            linked_ticket_ids=await outages.linked_ticket_ids(command.incident_id),
            cause=command.cause or row.cause,
        )
    )


class AlreadyRestored(Exception):
    pass


async def restore_incident(command: commands.RestoreIncident, uow: UnitOfWork) -> list[WorkOrder]:
    """Power is back: every order of the incident is resolved and returned at once, so each
    ticket goes on to callback."""
    outages = OutageRepository(uow.session)
    row = await outages.get(command.incident_id, for_update=True)
    if row is None:
        raise NotFound(command.incident_id)
    if row.status != "open":
        raise AlreadyRestored(command.incident_id)
    cause = command.cause or row.cause
    orders = WorkOrderRepository(uow.session)
    finished = []
    recorded_at = now()
    incident_orders = await outages.orders(command.incident_id)
    for order in incident_orders:
        order.restore_with_outage(command.restored_at, command.actor, cause)
        if order.events:
            await orders.save(order)
            await flush(order, uow, recorded_at=recorded_at)
            finished.append(order)
    await outages.update(
        command.incident_id, status="restored", restored_at=command.restored_at, cause=cause
    )
    uow.emit(
        OutageRestoredV1(
            incident_id=command.incident_id,
            restored_at=command.restored_at,
            ticket_ids=[o.ticket_id for o in incident_orders],
        )
    )
    return finished


async def flush(order: WorkOrder, uow: UnitOfWork, *, recorded_at: datetime) -> None:
    """Record the order's history and turn its domain events into integration events."""
    orders = WorkOrderRepository(uow.session)
    for event in order.events:
        if isinstance(event, events.WorkOrderCreated):
            uow.emit(
                WorkOrderCreatedV1(
                    work_order_id=order.id,
                    ticket_id=order.ticket_id,
                    unit_id=order.unit_id,
                    area_class=order.area_class,
                    created_at=order.created_at,
                )
            )
        elif isinstance(event, events.StatusChanged):
            await orders.record_history(
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
        elif isinstance(event, events.Returned):
            uow.emit(
                WorkOrderReturnedV1(
                    work_order_id=order.id,
                    ticket_id=order.ticket_id,
                    unit_id=order.unit_id,
                    returned_at=event.at,
                    resolution=order.resolution,
                    cause=order.cause,
                    incident_id=order.incident_id,
                )
            )
    order.events.clear()


HANDLERS = {
    commands.CreateWorkOrder: create_work_order,
    commands.CrewTransition: crew_transition,
    commands.ExpireAcceptance: expire_acceptance,
    commands.SetExpectedRestoration: set_expected_restoration,
    commands.RestoreIncident: restore_incident,
    commands.DeclareIncident: declare_incident,
}
