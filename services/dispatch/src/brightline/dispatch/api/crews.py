"""Service areas, units, crews, members, shifts, duty and positions: fed by other utility systems
(integration) and kept by supervisors."""

import uuid

from fastapi import APIRouter

from brightline.dispatch.adapters.repository import CrewRepository, WorkOrderRepository
from brightline.dispatch.api.schemas import (
    LONGEST_SHIFT,
    CrewRead,
    CrewUpdate,
    DutyUpdate,
    Id,
    MemberRead,
    MemberUpdate,
    PositionUpdate,
    ServiceAreaImport,
    ServiceAreaRead,
    ShiftCreate,
    ShiftRead,
    UnitRead,
    UnitUpdate,
)
from brightline.dispatch.domain.model import ServiceArea
from brightline.messaging import UnitOfWorkDep
from brightline.platform import clock
from brightline.platform.auth import (
    DeskOrSystem,
    Integration,
    SupervisorOrSystem,
)
from brightline.platform.problems import Problem

areas_router = APIRouter(prefix="/service-areas", tags=["service-areas"])
units_router = APIRouter(prefix="/units", tags=["units"])
crews_router = APIRouter(prefix="/crews", tags=["crews"])


async def require_units(repo: CrewRepository, units: dict[str, str]) -> None:
    """Refuse, with 422 naming each field (up to 20), what would belong to a unit no PUT /units
    has named: an incident, an area or a crew of NOPE-UNIT gets no crew, on no board."""
    unknown = await repo.unknown_units(units.values())
    if unknown:
        raise Problem(
            422,
            "unknown-unit",
            "No such unit",
            f"put the unit first (PUT /units/{{unit_id}}): {', '.join(sorted(unknown))}",
            errors=[
                {"field": field, "message": f"unit {unit_id} does not exist"}
                for field, unit_id in units.items()
                if unit_id in unknown
            ][:20],
        )


@areas_router.put("", response_model=dict)
async def import_service_areas(
    body: ServiceAreaImport, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> dict:
    """Load or update the area code -> repair unit and area class table (upsert, all or nothing)."""
    codes = [a.area_code for a in body.areas]
    if len(codes) != len(set(codes)):
        raise Problem(
            422,
            "duplicate-area-codes",
            "An area code appears twice",
            "each area_code once per import",
        )
    async with uow:
        await require_units(
            CrewRepository(uow.session),
            {f"areas.{i}.unit_id": a.unit_id for i, a in enumerate(body.areas)},
        )
        await WorkOrderRepository(uow.session).upsert_service_areas(
            [ServiceArea(a.area_code, a.unit_id, a.area_class) for a in body.areas],
            {a.area_code: a.name for a in body.areas},
        )
        await uow.commit()
    return {"imported": len(body.areas)}


@areas_router.get("", response_model=list[ServiceAreaRead])
async def list_service_areas(uow: UnitOfWorkDep, who: DeskOrSystem) -> list[ServiceAreaRead]:
    async with uow:
        rows = await WorkOrderRepository(uow.session).service_area_rows()
    return [ServiceAreaRead.model_validate(r, from_attributes=True) for r in rows]


@units_router.put("/{unit_id}", response_model=UnitRead)
async def put_unit(
    unit_id: Id, body: UnitUpdate, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> UnitRead:
    async with uow:
        await CrewRepository(uow.session).upsert_unit(unit_id, body.name)
        await uow.commit()
    return UnitRead(unit_id=unit_id, name=body.name)


@units_router.get("", response_model=list[UnitRead])
async def list_units(uow: UnitOfWorkDep, who: DeskOrSystem) -> list[UnitRead]:
    async with uow:
        rows = await CrewRepository(uow.session).units()
    return [UnitRead(unit_id=r.unit_id, name=r.name) for r in rows]


async def _crew_read(repo: CrewRepository, crew_id: str) -> CrewRead:
    rows = [r for r in await repo.board() if r.crew_id == crew_id]
    if not rows:
        raise Problem(404, "not-found", "No such crew", f"crew {crew_id} does not exist")
    return CrewRead.model_validate(rows[0], from_attributes=True)


@crews_router.put("/{crew_id}", response_model=CrewRead)
async def put_crew(
    crew_id: Id, body: CrewUpdate, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> CrewRead:
    async with uow:
        repo = CrewRepository(uow.session)
        await require_units(repo, {"unit_id": body.unit_id})
        await repo.upsert_crew(crew_id, body.unit_id, body.name)
        result = await _crew_read(repo, crew_id)
        await uow.commit()
    return result


@crews_router.get("", response_model=list[CrewRead])
async def list_crews(
    uow: UnitOfWorkDep, who: SupervisorOrSystem, unit_id: str | None = None
) -> list[CrewRead]:
    """The crew board: duty, last known position and open orders of every crew (of one unit)."""
    async with uow:
        rows = await CrewRepository(uow.session).board(unit_id)
    return [CrewRead.model_validate(r, from_attributes=True) for r in rows]


@crews_router.get("/{crew_id}", response_model=CrewRead)
async def get_crew(crew_id: str, uow: UnitOfWorkDep, who: SupervisorOrSystem) -> CrewRead:
    async with uow:
        return await _crew_read(CrewRepository(uow.session), crew_id)


async def _require_crew(repo: CrewRepository, crew_id: str) -> None:
    if await repo.get(crew_id) is None:
        raise Problem(404, "not-found", "No such crew", f"crew {crew_id} does not exist")


@crews_router.put("/{crew_id}/members/{member_id}", response_model=MemberRead)
async def put_member(
    crew_id: str, member_id: Id, body: MemberUpdate, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> MemberRead:
    """A crew member of the roster. They sign in on the phone with the identity provider, whose
    account for them carries the realm role crew and this crew_id; no credential is kept here."""
    async with uow:
        repo = CrewRepository(uow.session)
        await _require_crew(repo, crew_id)
        await repo.upsert_member(member_id, crew_id, body.name)
        await uow.commit()
    return MemberRead(member_id=member_id, name=body.name)


@crews_router.get("/{crew_id}/members", response_model=list[MemberRead])
async def list_members(
    crew_id: str, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> list[MemberRead]:
    async with uow:
        rows = await CrewRepository(uow.session).members(crew_id)
    return [MemberRead(member_id=r.member_id, name=r.name) for r in rows]


@crews_router.post("/{crew_id}/shifts", response_model=ShiftRead, status_code=201)
async def add_shift(
    crew_id: str, body: ShiftCreate, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> ShiftRead:
    """A rostered shift. A crew with a roster is only assigned work inside one of its shifts."""
    if not body.starts_at < body.ends_at <= body.starts_at + LONGEST_SHIFT:
        raise Problem(
            422,
            "bad-shift",
            "A shift ends after it starts, within days",
            f"ends_at must be after starts_at and at most {LONGEST_SHIFT.days} days later",
            errors=[{"field": "ends_at", "message": "not after starts_at, or too long"}],
        )
    shift_id = str(uuid.uuid4())
    async with uow:
        repo = CrewRepository(uow.session)
        await _require_crew(repo, crew_id)
        await repo.add_shift(shift_id, crew_id, body.starts_at, body.ends_at)
        await uow.commit()
    return ShiftRead(id=shift_id, crew_id=crew_id, starts_at=body.starts_at, ends_at=body.ends_at)


@crews_router.get("/{crew_id}/shifts", response_model=list[ShiftRead])
async def list_shifts(crew_id: str, uow: UnitOfWorkDep, who: SupervisorOrSystem) -> list[ShiftRead]:
    async with uow:
        rows = await CrewRepository(uow.session).shifts(crew_id)
    return [ShiftRead.model_validate(r, from_attributes=True) for r in rows]


@crews_router.put("/{crew_id}/duty", response_model=CrewRead)
async def put_duty(
    crew_id: str, body: DutyUpdate, uow: UnitOfWorkDep, who: SupervisorOrSystem
) -> CrewRead:
    async with uow:
        repo = CrewRepository(uow.session)
        if not await repo.update(crew_id, on_duty=body.on_duty):
            raise Problem(404, "not-found", "No such crew", f"crew {crew_id} does not exist")
        result = await _crew_read(repo, crew_id)
        await uow.commit()
    return result


@crews_router.put("/{crew_id}/position", response_model=CrewRead)
async def put_position(
    crew_id: str, body: PositionUpdate, uow: UnitOfWorkDep, who: Integration
) -> CrewRead:
    """Last known position from the vehicle tracker (the crew's phone reports it via
    /mobile/position). A late, older fix never overwrites a newer one: the crew stays where its
    newest fix puts it."""
    async with uow:
        repo = CrewRepository(uow.session)
        if not await repo.record_position(
            crew_id, body.latitude, body.longitude, body.at or clock.now()
        ):
            raise Problem(404, "not-found", "No such crew", f"crew {crew_id} does not exist")
        result = await _crew_read(repo, crew_id)
        await uow.commit()
    return result


routers = [areas_router, units_router, crews_router]
