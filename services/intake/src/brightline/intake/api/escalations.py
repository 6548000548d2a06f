"""Supervisor escalation of difficult callers, and the audit trail supervisors query."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from brightline.intake import handlers
from brightline.intake.adapters.repository import AuditRepository, EscalationRepository
from brightline.intake.api.schemas import (
    AuditEntry,
    EscalationCreate,
    EscalationRead,
    EscalationResolve,
)
from brightline.intake.domain.commands import RequestEscalation, ResolveEscalation
from brightline.messaging import BusDep, UnitOfWorkDep
from brightline.platform.auth import Desk, Supervisor
from brightline.platform.problems import Problem

router = APIRouter(prefix="/escalations", tags=["escalations"])
audit = APIRouter(prefix="/audit", tags=["audit"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EscalationRead)
async def request_escalation(
    body: EscalationCreate, uow: UnitOfWorkDep, bus: BusDep, agent: Desk
) -> EscalationRead:
    """An agent asks the duty supervisor for help with, or hands over, a difficult caller."""
    async with uow:
        try:
            row = await bus.handle(
                RequestEscalation(
                    kind=body.kind,
                    reason=body.reason,
                    agent_id=agent.subject,
                    call_id=body.call_id,
                    ticket_id=body.ticket_id,
                    caller_number=body.caller_number,
                    note=body.note,
                ),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(
                422,
                "unknown-ticket",
                "No such ticket",
                str(error),
                errors=[{"field": "ticket_id", "message": str(error)}],
            ) from error
        await uow.commit()
    return EscalationRead(**row, supervisor_id=None, resolved_at=None)


@router.get("", response_model=list[EscalationRead])
async def supervisor_queue(
    uow: UnitOfWorkDep,
    supervisor: Supervisor,
    status_: Annotated[Literal["open", "all"], Query(alias="status")] = "open",
) -> list[EscalationRead]:
    """The duty supervisor's queue: pending and accepted requests, oldest first."""
    statuses = (
        ("pending", "accepted")
        if status_ == "open"
        else ("pending", "accepted", "taken_over", "marked_harassing", "declined")
    )
    async with uow:
        rows = await EscalationRepository(uow.session).queue(statuses)
    return [EscalationRead(**r._asdict()) for r in rows]


@router.post("/{escalation_id}/resolution", response_model=EscalationRead)
async def resolve(
    escalation_id: str,
    body: EscalationResolve,
    uow: UnitOfWorkDep,
    bus: BusDep,
    supervisor: Supervisor,
) -> EscalationRead:
    """Accept, take over (the ticket's owner becomes the supervisor, audited), mark the number
    as harassing (the caller card flags it from now on), or decline with a reason."""
    async with uow:
        try:
            row = await bus.handle(
                ResolveEscalation(escalation_id, body.outcome, supervisor.subject, body.reason),
                uow,
            )
        except handlers.ReasonRequired as error:
            raise Problem(
                422,
                "reason-required",
                "A decline names its reason",
                str(error),
                errors=[{"field": "reason", "message": str(error)}],
            ) from error
        except handlers.NotFound as error:
            raise Problem(404, "not-found", "No such escalation", str(error)) from error
        except handlers.Conflict as error:
            raise Problem(
                409, "illegal-transition", "The escalation cannot take this outcome", str(error)
            ) from error
        await uow.commit()
    return EscalationRead(**row)


@audit.get("", response_model=list[AuditEntry])
async def audit_trail(
    uow: UnitOfWorkDep,
    supervisor: Supervisor,
    ticket_id: str | None = None,
    escalation_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """Owner changes, escalations and handovers, oldest first."""
    async with uow:
        rows = await AuditRepository(uow.session).query(
            ticket_id=ticket_id, escalation_id=escalation_id, actor=actor, action=action
        )
    return [AuditEntry(**r._asdict()) for r in rows]


routers = [router, audit]
