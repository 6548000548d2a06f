"""Tickets over HTTP: translate, call the handler, commit. Other resources live beside this
module; `routers` at the bottom lists them all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from brightline.etiquette import ForbiddenPhraseError
from brightline.intake import handlers, service_requests
from brightline.intake.adapters.repository import AuditRepository, TicketRepository
from brightline.intake.api import calls, directory, escalations, guidance, milestones
from brightline.intake.api.deps import PhraseBookDep, forbidden_phrase_problem
from brightline.intake.api.routes_util import summary, to_read
from brightline.intake.api.schemas import (
    CallOutcomeCreate,
    CallOutcomeRead,
    HandoverCreate,
    HandoverRead,
    TicketComplete,
    TicketCreate,
    TicketRead,
    TicketSummary,
)
from brightline.intake.domain.commands import (
    CompleteTicket,
    HandOver,
    RecordCallOutcome,
    RecordTicket,
)
from brightline.intake.domain.model import IllegalTransition, MissingFields
from brightline.messaging import BusDep, HandlingDep, UnitOfWorkDep
from brightline.messaging.http import (
    DeferredIdempotentCommand,
    IdempotencyKey,
    IdempotentCommand,
)
from brightline.platform.auth import Desk, Role
from brightline.platform.problems import Problem

router = APIRouter(prefix="/tickets", tags=["tickets"])
handovers = APIRouter(prefix="/handovers", tags=["handovers"])
outcomes = APIRouter(prefix="/call-outcomes", tags=["call-outcomes"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TicketRead)
async def record_ticket(
    body: TicketCreate,
    handling: HandlingDep,
    agent: Desk,
    idempotency_key: IdempotencyKey = None,
):
    """Record a ticket of any 95598 type; the calling agent becomes its first-ask owner. A repair
    for a fault already being handled comes back as a consultation with `linked` progress."""
    uow, bus = handling
    if body.script and not handlers.scripts().may_record(
        body.script.split("@")[0], body.ticket_type
    ):
        raise Problem(
            422,
            "validation-error",
            "Request is not valid",
            f"script {body.script} is not the {body.ticket_type} call script",
            errors=[
                {
                    "field": "script",
                    "message": f"expected {handlers.scripts().get(body.ticket_type).ref}",
                }
            ],
        )
    if errors := service_requests.problems_of(body):
        raise Problem(
            422, "validation-error", "Request is not valid", errors[0]["message"], errors=errors
        )
    # The key is claimed with the handler's first statement (a repair's with its address lock:
    # one round trip less); a replay found there leaves the block.
    fields = body.model_dump(mode="json")
    async with (
        uow,
        DeferredIdempotentCommand(uow, "tickets.record", idempotency_key, fields) as once,
    ):
        # What the call gave beyond its type and description (the body is flat: one dump serves).
        details = {
            k: v
            for k, v in fields.items()
            if v is not None and k not in ("ticket_type", "description")
        }
        try:
            recorded = await bus.handle(
                RecordTicket(body.ticket_type, body.description, agent.subject, details), uow
            )
        except MissingFields as error:
            raise Problem(
                422,
                "missing-fields",
                "Required fields are missing",
                str(error),
                errors=[
                    {"field": f, "message": "required for " + error.ticket_type}
                    for f in error.fields
                ],
            ) from error
        except ForbiddenPhraseError as error:
            raise forbidden_phrase_problem(error, "note_to_customer") from error
        except handlers.NotChaseable as error:
            raise Problem(
                422,
                "validation-error",
                "Request is not valid",
                str(error),
                errors=[{"field": "linked_ticket_id", "message": str(error)}],
            ) from error
        return await once.respond(
            201, to_read(recorded.ticket, recorded.link).model_dump(mode="json")
        )
    return once.response


@router.get("", response_model=list[TicketSummary])
async def list_tickets(
    uow: UnitOfWorkDep,
    agent: Desk,
    owner: str | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> list[TicketSummary]:
    """Tickets by current owner (default: the caller's own; another's: supervisors only)."""
    if owner and owner != agent.subject and not agent.has(Role.SUPERVISOR):
        raise Problem(403, "forbidden", "Only supervisors list another agent's tickets", "owner")
    async with uow:
        found = await TicketRepository(uow.session).list(
            owner=owner or agent.subject, open_only=open_only
        )
    return [summary(t) for t in found]


@router.get("/{ticket_id}", response_model=TicketRead)
async def get_ticket(ticket_id: str, uow: UnitOfWorkDep, agent: Desk) -> TicketRead:
    """A ticket, for its owner, its first-ask owner and supervisors (anyone else: 404). Every
    read of a complaint or a report is written to the audit log."""
    async with uow:
        ticket = await TicketRepository(uow.session).get(ticket_id)
        allowed = ticket is not None and (
            agent.has(Role.SUPERVISOR) or agent.subject in (ticket.owner, ticket.first_ask_owner)
        )
        if ticket is None or not allowed:
            raise Problem(404, "not-found", "No such ticket", f"ticket {ticket_id} does not exist")
        if ticket.type in AUDITED_READS:
            await AuditRepository(uow.session).add(
                at=handlers.now(), actor=agent.subject, action="ticket.read", ticket_id=ticket.id
            )
            await uow.commit()
    return to_read(ticket)


AUDITED_READS = frozenset({"report", "complaint"})


@router.post("/{ticket_id}/complete", response_model=TicketRead)
async def complete_ticket(
    ticket_id: str,
    body: TicketComplete,
    uow: UnitOfWorkDep,
    bus: BusDep,
    agent: Desk,
    book: PhraseBookDep,
) -> TicketRead:
    """Close a consultation or service request at intake with the answer given (checked for
    服务忌语 and kept); its callback is due."""
    try:
        book.ensure_polite(body.reply)
    except ForbiddenPhraseError as error:
        raise forbidden_phrase_problem(error, "reply") from error
    async with uow:
        try:
            ticket = await bus.handle(
                CompleteTicket(
                    ticket_id,
                    agent.subject,
                    agent.unit_id,
                    body.reply,
                    supervisor=agent.has(Role.SUPERVISOR),
                ),
                uow,
            )
        except handlers.NotFound as error:
            raise Problem(404, "not-found", "No such ticket", str(error)) from error
        except IllegalTransition as error:
            raise Problem(
                409, "illegal-transition", "The ticket cannot be completed here", str(error)
            ) from error
        await uow.commit()
    return to_read(ticket)


@outcomes.post("", status_code=status.HTTP_201_CREATED, response_model=CallOutcomeRead)
async def record_call_outcome(
    body: CallOutcomeCreate,
    uow: UnitOfWorkDep,
    bus: BusDep,
    agent: Desk,
    book: PhraseBookDep,
    idempotency_key: IdempotencyKey = None,
):
    """A call that ended without a repair or case ticket (breaker self-check solved it, a fault
    in the customer's own installation referred to paid service, answered on the spot) is
    recorded as a consultation with its outcome and closed at once; it counts in the statistics
    and is called back when the rules say so. `say` is what the agent tells the caller (for paid
    service: the fee standard and the contact number from the rules data)."""
    if body.outcome not in handlers.call_outcomes().outcomes:
        allowed = ", ".join(handlers.call_outcomes().outcomes)
        raise Problem(
            422,
            "validation-error",
            "Request is not valid",
            f"unknown call outcome {body.outcome}",
            errors=[{"field": "outcome", "message": f"one of: {allowed}"}],
        )
    if body.answer:
        try:
            book.ensure_polite(body.answer)
        except ForbiddenPhraseError as error:
            raise forbidden_phrase_problem(error, "answer") from error
    async with (
        uow,
        IdempotentCommand(
            uow, "call-outcomes.record", idempotency_key, body.model_dump(mode="json")
        ) as once,
    ):
        if once.replayed:
            return once.response
        details = body.model_dump(
            mode="json", exclude={"outcome", "description", "answer"}, exclude_none=True
        )
        ticket, said = await bus.handle(
            RecordCallOutcome(
                outcome=body.outcome,
                description=body.description,
                agent=agent.subject,
                details=details,
                answer=body.answer,
                unit_id=agent.unit_id,
            ),
            uow,
        )
        result = CallOutcomeRead(
            ticket=to_read(ticket),
            say=said,
            callback_due=handlers.call_outcomes().outcomes[body.outcome].callback,
        )
        return await once.respond(201, result.model_dump(mode="json"))


@handovers.post("", status_code=status.HTTP_201_CREATED, response_model=HandoverRead)
async def hand_over(
    body: HandoverCreate, uow: UnitOfWorkDep, bus: BusDep, agent: Desk
) -> HandoverRead:
    """Shift handover: the open tickets the agent owns (every one, or those named in
    `ticket_ids`) go to the named agent of the next shift."""
    from_agent = body.from_agent or agent.subject
    if from_agent != agent.subject and Role.SUPERVISOR not in agent.roles:
        raise Problem(
            403,
            "forbidden",
            "Only a supervisor hands over another agent's tickets",
            f"you are {agent.subject}, not {from_agent}",
        )
    async with uow:
        try:
            moved = await bus.handle(
                HandOver(
                    from_agent,
                    body.to_agent,
                    agent.subject,
                    None if body.ticket_ids is None else tuple(body.ticket_ids),
                ),
                uow,
            )
        except (handlers.NotHeld, handlers.Conflict) as error:
            field = "ticket_ids" if isinstance(error, handlers.NotHeld) else "to_agent"
            raise Problem(
                422,
                "bad-handover",
                "Cannot hand over",
                str(error),
                errors=[{"field": field, "message": str(error)}],
            ) from error
        await uow.commit()
    return HandoverRead(
        from_agent=from_agent, to_agent=body.to_agent, ticket_ids=[t.id for t in moved]
    )


routers = [
    router,
    milestones.router,
    handovers,
    outcomes,
    *calls.routers,
    *directory.routers,
    *escalations.routers,
    *guidance.routers,
]
