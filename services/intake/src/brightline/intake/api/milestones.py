"""POST /tickets/{id}/milestones: staff record what happened on a service request."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from brightline.contracts.events.common import ServiceMilestone
from brightline.intake import service_requests
from brightline.intake.domain.model import IllegalTransition
from brightline.messaging import UnitOfWorkDep
from brightline.platform.auth import Desk
from brightline.platform.problems import Problem
from brightline.platform.validation import HappenedAt

router = APIRouter(prefix="/tickets", tags=["tickets"])


class MilestoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    milestone: ServiceMilestone
    occurred_at: HappenedAt | None = Field(
        None,
        description="When it happened, with offset, within the last 30 days; defaults to now."
        " Never in the future (beyond a few minutes of clock skew).",
    )


class MilestoneRead(BaseModel):
    ticket_id: str
    service_subtype: str | None
    milestone: str
    occurred_at: datetime
    recorded_by: str


@router.post(
    "/{ticket_id}/milestones", status_code=status.HTTP_201_CREATED, response_model=MilestoneRead
)
async def record_milestone(
    ticket_id: str, body: MilestoneCreate, uow: UnitOfWorkDep, agent: Desk
) -> MilestoneRead:
    """Record a fact of a service request (staff arrived, written reply sent, meter handled,
    accepted with contract, power connected). Published as ticket.milestone-recorded; the SLA
    monitor opens or meets the sub-type's time limit on it."""
    async with uow:
        try:
            fact = await service_requests.record_milestone(
                ticket_id=ticket_id,
                milestone=body.milestone,
                occurred_at=body.occurred_at,
                by=agent.subject,
                uow=uow,
            )
        except service_requests.NotFound as error:
            raise Problem(404, "not-found", "No such ticket", str(error)) from None
        except IllegalTransition as error:
            raise Problem(
                409,
                "illegal-transition",
                "That milestone does not fit this ticket",
                str(error),
                errors=[{"field": "milestone", "message": str(error)}],
            ) from None
        await uow.commit()
    return MilestoneRead(**fact.model_dump(include=set(MilestoneRead.model_fields)))
