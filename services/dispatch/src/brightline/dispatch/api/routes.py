"""Work orders over HTTP."""

from typing import Annotated

from fastapi import APIRouter, Depends

from brightline.dispatch.adapters.repository import WorkOrderRepository
from brightline.dispatch.api.schemas import WorkOrderRead
from brightline.messaging import UnitOfWorkDep
from brightline.platform.auth import Allow, Principal, Role
from brightline.platform.problems import Problem

router = APIRouter(prefix="/work-orders", tags=["work-orders"])

Staff = Annotated[Principal, Depends(Allow(Role.AGENT, Role.SUPERVISOR))]


@router.get("", response_model=list[WorkOrderRead])
async def find_work_orders(ticket_id: str, uow: UnitOfWorkDep, staff: Staff) -> list[WorkOrderRead]:
    """Work orders of one ticket."""
    async with uow:
        order = await WorkOrderRepository(uow.session).for_ticket(ticket_id)
    return [WorkOrderRead.model_validate(order, from_attributes=True)] if order else []


@router.get("/{work_order_id}", response_model=WorkOrderRead)
async def get_work_order(work_order_id: str, uow: UnitOfWorkDep, staff: Staff) -> WorkOrderRead:
    async with uow:
        order = await WorkOrderRepository(uow.session).get(work_order_id)
    if order is None:
        raise Problem(404, "not-found", "No such work order", f"work order {work_order_id} does not exist")
    return WorkOrderRead.model_validate(order, from_attributes=True)


routers = [router]
