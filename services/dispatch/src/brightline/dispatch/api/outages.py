"""Grid topology (from GIS, via integration) and outage incidents (supervisor)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from brightline.dispatch import handlers
from brightline.dispatch.adapters.repository import OutageRepository
from brightline.dispatch.api.schemas import (
    ExpectedRestorationUpdate,
    IncidentCreate,
    IncidentRead,
    RestoreCreate,
    RestoreRead,
    TopologyImport,
)
from brightline.dispatch.domain import commands
from brightline.messaging import UnitOfWorkDep
from brightline.messaging.http import IdempotentCommand
from brightline.platform.auth import Allow, Principal, Role
from brightline.platform.problems import Problem

Integration = Annotated[Principal, Depends(Allow(Role.INTEGRATION))]
Supervisor = Annotated[Principal, Depends(Allow(Role.SUPERVISOR))]
Declarer = Annotated[Principal, Depends(Allow(Role.SUPERVISOR, Role.INTEGRATION))]
Staff = Annotated[Principal, Depends(Allow(Role.SUPERVISOR, Role.AGENT))]

topology_router = APIRouter(prefix="/topology", tags=["topology"])
router = APIRouter(prefix="/outages", tags=["outages"])


@topology_router.put("", response_model=dict)
async def import_topology(body: TopologyImport, uow: UnitOfWorkDep, who: Integration) -> dict:
    """Meter -> transformer -> feeder, upserted (all or nothing)."""
    async with uow:
        await OutageRepository(uow.session).load_topology(
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
    who: Staff,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[IncidentRead]:
    async with uow:
        repo = OutageRepository(uow.session)
        return [await _read(repo, r.id) for r in await repo.search(status, limit, offset)]


@router.post("", response_model=IncidentRead, status_code=201)
async def declare_outage(body: IncidentCreate, uow: UnitOfWorkDep, who: Declarer) -> IncidentRead:
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
        try:
            incident_id = await handlers.declare_incident(
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
async def get_outage(incident_id: str, uow: UnitOfWorkDep, who: Staff) -> IncidentRead:
    async with uow:
        return await _read(OutageRepository(uow.session), incident_id)


@router.put("/{incident_id}/expected-restoration", response_model=IncidentRead)
async def set_expected_restoration(
    incident_id: str,
    body: ExpectedRestorationUpdate,
    uow: UnitOfWorkDep,
    supervisor: Supervisor,
) -> IncidentRead:
    """Tell callers when power should be back: OutageUpdatedV1 reaches intake."""
    async with uow:
        try:
            await handlers.set_expected_restoration(
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
    supervisor: Supervisor,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
):
    """Power is back: every linked order is resolved and returned at once (one WorkOrderReturnedV1
    per ticket, so callback calls each caller) and OutageRestoredV1 is emitted."""
    restored_at = body.restored_at or datetime.now(UTC)
    async with (
        uow,
        IdempotentCommand(
            uow, f"outages.restore:{incident_id}", idempotency_key, body.model_dump(mode="json")
        ) as once,
    ):
        if once.replayed:
            return once.response
        try:
            finished = await handlers.restore_incident(
                commands.RestoreIncident(incident_id, restored_at, supervisor.subject, body.cause),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(
                404, "not-found", "No such incident", f"incident {incident_id} does not exist"
            ) from error
        except handlers.AlreadyRestored as error:
            raise Problem(
                409,
                "already-restored",
                "The incident is already restored",
                f"incident {incident_id} was restored before",
            ) from error
        result = RestoreRead(
            incident_id=incident_id,
            restored_at=restored_at,
            finished_work_order_ids=[o.id for o in finished],
        )
        return await once.respond(200, result.model_dump(mode="json"))


routers = [topology_router, router]
