"""Deadlines over HTTP."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from brightline.messaging import UnitOfWorkDep
from brightline.platform.auth import Allow, Principal, Role
from brightline.sla_monitor.adapters.repository import DeadlineRepository

router = APIRouter(prefix="/deadlines", tags=["deadlines"])

Staff = Annotated[Principal, Depends(Allow(Role.AGENT, Role.SUPERVISOR))]


class DeadlineRead(BaseModel):
    id: str
    limit_key: str
    policy: str
    subject_type: str
    subject_id: str
    ticket_id: str | None
    state: str
    opened_at: datetime
    warn_at: datetime
    due_at: datetime


@router.get("", response_model=list[DeadlineRead])
async def find_deadlines(
    uow: UnitOfWorkDep, staff: Staff, subject_id: str | None = None, ticket_id: str | None = None
) -> list[DeadlineRead]:
    async with uow:
        rows = await DeadlineRepository(uow.session).find(subject_id=subject_id, ticket_id=ticket_id)
    return [DeadlineRead.model_validate(dict(r)) for r in rows]


routers = [router]
