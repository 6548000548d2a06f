"""Work orders over HTTP, for agents and the supervisor board."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from brightline.dispatch import handlers
from brightline.dispatch.adapters.repository import WorkOrderRepository
from brightline.dispatch.api import crews, mobile, outages
from brightline.dispatch.api.schemas import (
    AssignmentUpdate,
    CancelCreate,
    CancelRefusal,
    HistoryRead,
    PhotoRead,
    ReturnApproval,
    ReturnSendBack,
    RoutingUpdate,
    WorkOrderRead,
)
from brightline.dispatch.domain import commands
from brightline.dispatch.domain.model import IllegalTransition, StatusFilter
from brightline.messaging import BusDep, MessageBus, UnitOfWork, UnitOfWorkDep
from brightline.platform.auth import Desk, Supervisor
from brightline.platform.problems import Problem
from brightline.platform.validation import PageOffset

router = APIRouter(prefix="/work-orders", tags=["work-orders"])


def to_read(order) -> WorkOrderRead:
    return WorkOrderRead.model_validate(order, from_attributes=True)


@router.get("", response_model=list[WorkOrderRead])
async def find_work_orders(
    uow: UnitOfWorkDep,
    staff: Desk,
    ticket_id: str | None = None,
    status: Annotated[
        StatusFilter | None,
        Query(
            description="One status, `open`: every order not yet returned or cancelled, "
            "`awaiting_review`: the crews' returns waiting for review, or `cancel_requested`: "
            "the crews' requests to cancel waiting for an answer, oldest first"
        ),
    ] = None,
    unit_id: str | None = None,
    crew_id: str | None = None,
    incident_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: PageOffset = 0,
) -> list[WorkOrderRead]:
    """Work orders of one ticket, or the board: filtered by status, unit, crew or incident,
    newest first; the open ones (`status=open`) come most urgent first, by their arrival limit."""
    async with uow:
        repo = WorkOrderRepository(uow.session)
        if ticket_id:
            # Every order of the ticket, newest first (a reopened repair has several).
            return [to_read(o) for o in await repo.all_for_ticket(ticket_id)]
        found = await repo.search(
            status=status,
            unit_id=unit_id,
            crew_id=crew_id,
            incident_id=incident_id,
            limit=limit,
            offset=offset,
        )
    return [to_read(o) for o in found]


@router.get("/needs-routing", response_model=list[WorkOrderRead])
async def needs_routing(
    uow: UnitOfWorkDep,
    staff: Desk,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: PageOffset = 0,
) -> list[WorkOrderRead]:
    """The duty dispatcher's queue: orders no service area mapped, waiting to be routed by hand
    (the gauge dispatch_orders_needing_routing alarms while it is not empty)."""
    async with uow:
        found = await WorkOrderRepository(uow.session).search(
            needs_routing=True, status="created", limit=limit, offset=offset
        )
    return [to_read(o) for o in found]


@router.put("/{work_order_id}/routing", response_model=WorkOrderRead)
async def route_work_order(
    work_order_id: str,
    body: RoutingUpdate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
) -> WorkOrderRead:
    """Route an order from the needs-routing queue to a repair unit; it gets a crew at once."""
    async with uow:
        try:
            order = await bus.handle(
                commands.RouteWorkOrder(
                    work_order_id, body.unit_id, body.area_class, body.reason, supervisor.subject
                ),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(
                404,
                "not-found",
                "No such work order or unit",
                f"{error} does not exist",
                errors=[{"field": "unit_id", "message": f"{error} does not exist"}]
                if str(error) == body.unit_id
                else [],
            ) from error
        except handlers.AlreadyRouted as error:
            raise Problem(
                409, "already-routed", "The order is already routed", f"{work_order_id}"
            ) from error
        await uow.commit()
    return to_read(order)


@router.post("/{work_order_id}/cancellation", response_model=WorkOrderRead)
async def cancel_work_order(
    work_order_id: str,
    body: CancelCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
) -> WorkOrderRead:
    """Cancel an order that is not needed, with the reason (audited in its history; the
    arrival clock closes). So is a crew's request to cancel granted (申请撤单)."""
    async with uow:
        try:
            order = await bus.handle(
                commands.CancelWorkOrder(work_order_id, body.reason, supervisor.subject),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(
                404, "not-found", "No such work order", f"{work_order_id} does not exist"
            ) from error
        except IllegalTransition as error:
            raise Problem(
                409,
                "illegal-transition",
                "The order cannot be cancelled now",
                str(error),
                status_now=error.current,
                allowed=error.allowed,
            ) from error
        await uow.commit()
    return to_read(order)


async def _answer(
    work_order_id: str,
    command: commands.ReviewReturn | commands.RefuseCancel,
    uow: UnitOfWork,
    bus: MessageBus,
) -> WorkOrderRead:
    """The dispatcher's answer to what a crew handed in (a return, a request to cancel): a 409
    naming the order's status when nothing of the kind waits."""
    async with uow:
        try:
            order = await bus.handle(command, uow)
        except handlers.NotFound as error:
            raise Problem(
                404, "not-found", "No such work order", f"{work_order_id} does not exist"
            ) from error
        except IllegalTransition as error:
            raise Problem(
                409,
                *(
                    ("not-awaiting-review", "The order's return is not waiting for review")
                    if isinstance(command, commands.ReviewReturn)
                    else ("no-cancel-request", "No request to cancel the order waits")
                ),
                str(error),
                status_now=error.current,
            ) from error
        await uow.commit()
    return to_read(order)


@router.post("/{work_order_id}/return-approval", response_model=WorkOrderRead)
async def approve_return(
    work_order_id: str,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
    body: ReturnApproval | None = None,
) -> WorkOrderRead:
    """审核通过: the crew's return holds. The ticket closes and goes to callback, and the
    repeat-call consultations linked to the order are let go with it."""
    note = body.note if body else None
    command = commands.ReviewReturn(work_order_id, True, note, supervisor.subject)
    return await _answer(work_order_id, command, uow, bus)


@router.post("/{work_order_id}/return-send-back", response_model=WorkOrderRead)
async def send_back_return(
    work_order_id: str,
    body: ReturnSendBack,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
) -> WorkOrderRead:
    """回单退回: the return does not hold. The order goes back to its crew on site with the
    reason, to be resolved and returned again; nothing closes."""
    command = commands.ReviewReturn(work_order_id, False, body.reason, supervisor.subject)
    return await _answer(work_order_id, command, uow, bus)


@router.post("/{work_order_id}/cancellation-refusal", response_model=WorkOrderRead)
async def refuse_cancellation(
    work_order_id: str,
    body: CancelRefusal,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
) -> WorkOrderRead:
    """The crew's request to cancel does not hold: the order stays the crew's, told why."""
    command = commands.RefuseCancel(work_order_id, body.reason, supervisor.subject)
    return await _answer(work_order_id, command, uow, bus)


@router.get("/{work_order_id}", response_model=WorkOrderRead)
async def get_work_order(work_order_id: str, uow: UnitOfWorkDep, staff: Desk) -> WorkOrderRead:
    async with uow:
        order = await WorkOrderRepository(uow.session).get(work_order_id)
    if order is None:
        raise Problem(
            404, "not-found", "No such work order", f"work order {work_order_id} does not exist"
        )
    return to_read(order)


@router.get("/{work_order_id}/history", response_model=list[HistoryRead])
async def get_work_order_history(
    work_order_id: str, uow: UnitOfWorkDep, staff: Desk
) -> list[HistoryRead]:
    """Every state change with who, why (reassignments name the reason) and the device's time."""
    async with uow:
        rows = await WorkOrderRepository(uow.session).history(work_order_id)
    return [HistoryRead.model_validate(r, from_attributes=True) for r in rows]


# A photo of a customer's premises is kept by no cache on its way.
PHOTO_CACHE = "no-store"


@router.get("/{work_order_id}/photos", response_model=list[PhotoRead])
async def get_work_order_photos(
    work_order_id: str, uow: UnitOfWorkDep, supervisor: Supervisor
) -> list[PhotoRead]:
    """The site photos the crew uploaded with its resolution(s), oldest first: what the duty
    dispatcher checks when reviewing a return (回单审核)."""
    async with uow:
        repo = WorkOrderRepository(uow.session)
        if await repo.get(work_order_id) is None:
            raise Problem(
                404, "not-found", "No such work order", f"work order {work_order_id} does not exist"
            )
        rows = await repo.attachments(work_order_id)
    return [PhotoRead.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    "/{work_order_id}/photos/{photo_id}",
    response_class=Response,
    responses={
        200: {
            "description": "The photo as the crew uploaded it, in its own content type",
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def get_work_order_photo(
    work_order_id: str, photo_id: str, uow: UnitOfWorkDep, supervisor: Supervisor
) -> Response:
    """One site photo's bytes, in the type the crew uploaded it as."""
    async with uow:
        photo = await WorkOrderRepository(uow.session).attachment(work_order_id, photo_id)
    if photo is None:
        raise Problem(
            404,
            "not-found",
            "No such photo",
            f"work order {work_order_id} has no photo {photo_id}",
        )
    return Response(
        photo.data,
        media_type=photo.content_type,
        headers={"Cache-Control": PHOTO_CACHE, "X-Content-Type-Options": "nosniff"},
    )


@router.put("/{work_order_id}/assignment", response_model=WorkOrderRead)
async def reassign_work_order(
    work_order_id: str,
    body: AssignmentUpdate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
) -> WorkOrderRead:
    """A supervisor offers an order that nobody has accepted yet to a crew of their choosing."""
    async with uow:
        try:
            order = await bus.handle(
                commands.Reassign(work_order_id, body.crew_id, body.reason, supervisor.subject),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(
                404, "not-found", "No such work order or crew", f"{error} does not exist"
            ) from error
        except IllegalTransition as error:
            raise Problem(
                409,
                "illegal-transition",
                "The order cannot be reassigned now",
                str(error),
                status_now=error.current,
                allowed=error.allowed,
            ) from error
        await uow.commit()
    return to_read(order)


routers = [router, *crews.routers, *outages.routers, *mobile.routers]
