"""Grid topology (from GIS, via integration) and outage incidents (supervisor)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from brightline.contracts.events.dispatch import RestoredBy
from brightline.dispatch import handlers
from brightline.dispatch.adapters.repository import CrewRepository, OutageRepository
from brightline.dispatch.api.crews import require_units
from brightline.dispatch.api.schemas import (
    ExpectedRestorationUpdate,
    IncidentCancel,
    IncidentCreate,
    IncidentRead,
    RestoreCreate,
    RestoreRead,
    TopologyImport,
)
from brightline.dispatch.domain import commands
from brightline.messaging import BusDep, UnitOfWorkDep
from brightline.messaging.http import IdempotencyKey, IdempotentCommand
from brightline.platform import clock
from brightline.platform.auth import (
    Desk,
    Integration,
    Role,
    Supervisor,
    SupervisorOrSystem,
)
from brightline.platform.problems import Problem
from brightline.platform.validation import PageOffset

# Restoration comes from a supervisor, or from the grid side (OMS/SCADA) as an integration client.

topology_router = APIRouter(prefix="/topology", tags=["topology"])
router = APIRouter(prefix="/outages", tags=["outages"])


@topology_router.put("", response_model=dict)
async def import_topology(body: TopologyImport, uow: UnitOfWorkDep, who: Integration) -> dict:
    """Meter -> transformer -> feeder, upserted (all or nothing). A meter's transformer comes in
    the same import or came in an earlier one."""
    if not body.transformers and not body.meters:
        raise Problem(
            422,
            "nothing-to-import",
            "Nothing to import",
            "give transformers, meters or both",
            errors=[{"field": f, "message": "empty"} for f in ("transformers", "meters")],
        )
    async with uow:
        repo = OutageRepository(uow.session)
        # A meter under a transformer never imported has no feeder: a fault declared on its
        # feeder would never take in its calls. (GIS sends both together: the demo, the bench.)
        unknown = await repo.unknown_transformers(
            {m.transformer_id for m in body.meters} - {t.transformer_id for t in body.transformers}
        )
        if unknown:
            raise Problem(
                422,
                "unknown-transformer",
                "A meter is under a transformer not imported",
                "import these transformers first, or with the meters: "
                + ", ".join(sorted(unknown)[:20]),
                errors=[
                    {
                        "field": f"meters.{i}.transformer_id",
                        "message": f"transformer {m.transformer_id} is not known",
                    }
                    for i, m in enumerate(body.meters)
                    if m.transformer_id in unknown
                ][:20],
            )
        await repo.load_topology(
            [t.model_dump() for t in body.transformers], [m.model_dump() for m in body.meters]
        )
        await uow.commit()
    return {"transformers": len(body.transformers), "meters": len(body.meters)}


async def _read(repo: OutageRepository, incident_id: str) -> IncidentRead:
    row = await repo.get(incident_id)
    if row is None:
        raise Problem(
            404, "not-found", "No such incident", f"incident {incident_id} does not exist"
        )
    return IncidentRead.model_validate(
        {**row._mapping, "linked_ticket_ids": await repo.linked_ticket_ids(incident_id)}
    )


@router.get("", response_model=list[IncidentRead])
async def list_outages(
    uow: UnitOfWorkDep,
    who: Desk,
    status: Annotated[
        Literal["open", "suspected", "confirmed", "crew_on_site", "restored", "cancelled"] | None,
        Query(description="`open`: suspected, confirmed or crew on site"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: PageOffset = 0,
) -> list[IncidentRead]:
    """Incidents, newest first; the board asks for `status=open`."""
    async with uow:
        repo = OutageRepository(uow.session)
        return [await _read(repo, r.id) for r in await repo.search(status, limit, offset)]


@router.post("", response_model=IncidentRead, status_code=201)
async def declare_outage(
    body: IncidentCreate, uow: UnitOfWorkDep, bus: BusDep, who: SupervisorOrSystem
) -> IncidentRead:
    """Declare a fault before the calls arrive (e.g. a feeder trip from outage management):
    'no power' reports under it fold into it, the first of them gets the crew."""
    if not (
        body.transformer_id
        or body.feeder_id
        or (body.latitude is not None and body.longitude is not None)
    ):
        raise Problem(
            422,
            "no-place",
            "Say where the fault is",
            "give transformer_id, feeder_id or latitude+longitude",
        )
    async with uow:
        await require_units(CrewRepository(uow.session), {"unit_id": body.unit_id})
        try:
            incident_id = await bus.handle(
                commands.DeclareIncident(
                    body.unit_id,
                    who.subject,
                    body.transformer_id,
                    body.feeder_id,
                    body.latitude,
                    body.longitude,
                    body.radius_m,
                    body.expected_restore_at,
                    body.cause,
                ),
                uow,
            )
        except handlers.DuplicateIncident as error:
            raise Problem(
                409,
                "incident-exists",
                "An open incident already covers this",
                f"incident {error.incident_id} is open",
                incident_id=error.incident_id,
            ) from error
        result = await _read(OutageRepository(uow.session), incident_id)
        await uow.commit()
    return result


@router.get("/{incident_id}", response_model=IncidentRead)
async def get_outage(incident_id: str, uow: UnitOfWorkDep, who: Desk) -> IncidentRead:
    async with uow:
        return await _read(OutageRepository(uow.session), incident_id)


@router.put("/{incident_id}/expected-restoration", response_model=IncidentRead)
async def set_expected_restoration(
    incident_id: str,
    body: ExpectedRestorationUpdate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
) -> IncidentRead:
    """Tell callers when power should be back: OutageUpdatedV1 reaches intake."""
    async with uow:
        try:
            await bus.handle(
                commands.SetExpectedRestoration(
                    incident_id, body.expected_restore_at, supervisor.subject, body.cause
                ),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(
                404, "not-found", "No such incident", f"incident {incident_id} does not exist"
            ) from error
        result = await _read(OutageRepository(uow.session), incident_id)
        await uow.commit()
    return result


@router.post("/{incident_id}/restoration", response_model=RestoreRead)
async def restore_outage(
    incident_id: str,
    body: RestoreCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    who: SupervisorOrSystem,
    idempotency_key: IdempotencyKey = None,
):
    """Power is back, said by a supervisor or by the grid side (the outage-management or SCADA
    system's restoration event, as an integration client). The incident closes as restored;
    every linked order is resolved and returned at once and every linked consultation released
    (one callback per ticket); OutageRestoredV1 names them all. A call after this is a new repair."""
    restored_at = body.restored_at or clock.now()
    restored_by: RestoredBy = "supervisor" if who.has(Role.SUPERVISOR) else "grid"
    async with (
        uow,
        IdempotentCommand(
            uow, f"outages.restore:{incident_id}", idempotency_key, body.model_dump(mode="json")
        ) as once,
    ):
        if once.replayed:
            return once.response
        try:
            finished = await bus.handle(
                commands.RestoreIncident(
                    incident_id, restored_at, who.subject, body.cause, restored_by=restored_by
                ),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(
                404, "not-found", "No such incident", f"incident {incident_id} does not exist"
            ) from error
        except handlers.AlreadyRestored as error:
            raise Problem(
                409,
                "incident-closed",
                "The incident is already closed",
                f"incident {incident_id} is {error.status}",
                status_now=error.status,
            ) from error
        except handlers.BadRestorationTime as error:
            raise Problem(
                422,
                "bad-restoration-time",
                "The restoration time cannot be true",
                str(error),
                errors=[{"field": "restored_at", "message": str(error)}],
            ) from error
        result = RestoreRead(
            incident_id=incident_id,
            restored_at=restored_at,
            finished_work_order_ids=[o.id for o in finished],
        )
        return await once.respond(200, result.model_dump(mode="json"))


@router.post("/{incident_id}/cancellation", response_model=IncidentRead)
async def cancel_outage(
    incident_id: str,
    body: IncidentCancel,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
) -> IncidentRead:
    """No shared fault after all: the incident closes as cancelled, with the reason; each open
    order folded into it becomes a repair of its own and gets a crew."""
    async with uow:
        try:
            await bus.handle(
                commands.CancelIncident(incident_id, body.reason, supervisor.subject),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(
                404, "not-found", "No such incident", f"incident {incident_id} does not exist"
            ) from error
        except handlers.AlreadyRestored as error:
            raise Problem(
                409,
                "incident-closed",
                "The incident is already closed",
                f"incident {incident_id} is {error.status}",
                status_now=error.status,
            ) from error
        result = await _read(OutageRepository(uow.session), incident_id)
        await uow.commit()
    return result


routers = [topology_router, router]
