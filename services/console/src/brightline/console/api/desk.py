"""The agent desk's own routes (the Vue desk): state with a not-ready reason, wrap-up with a
code, the draft of the call in hand (restored after a reload), special-situation lines, the
forbidden-phrase check as the agent types, completing a consultation with the answer given,
and what the supervisor did with the agent's escalation."""

from __future__ import annotations

import typing
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from brightline.console.adapters import desk_store
from brightline.console.api.deps import AgentCaller, HubDep, SoloAgent, StaffCaller, UpstreamDep
from brightline.console.api.desk_schemas import (
    DeskCodes,
    DeskStateRead,
    DeskStateUpdate,
    DeskWrapUp,
    DraftRead,
    DraftWrite,
    EscalationOutcomeRead,
    EtiquetteRead,
    EtiquetteText,
    GreetingRead,
    NotReadyReason,
    OfferRead,
    ReplyPromiseRead,
    SeatRead,
    Situation,
    TicketCompletion,
    WrapUpCode,
)
from brightline.console.domain.floor import Floor, IllegalState
from brightline.console.live import LiveHub
from brightline.platform import clock
from brightline.platform.problems import Problem

desk = APIRouter(prefix="/api/desk", tags=["desk"])


def _state(floor: Floor, agent_id: str) -> DeskStateRead:
    seat = floor.seats[agent_id]
    call = floor.calls.get(seat.call_id) if seat.call_id else None
    offer = None
    if call is not None:
        offer = OfferRead(
            call_id=call.call_id,
            queue=call.queue,
            rang_at=call.rang_at,
            caller_number=call.caller_number,
        )
    return DeskStateRead(
        seat=SeatRead(**floor.seat_view(seat, clock.now())),
        offer=offer if seat.state == "ringing" else None,
        call=offer if seat.state in ("talking", "wrap_up") else None,
        answered_at=call.answered_at if call is not None else None,
    )


def _engine(hub: LiveHub) -> AsyncEngine:
    # The desk's drafts, wrap-ups and escalations live in the console's database.
    if hub.engine is None:
        raise Problem(503, "no-database", "The console runs without its database")
    return hub.engine


@desk.get("/codes", response_model=DeskCodes)
async def codes(request: Request, caller: AgentCaller) -> DeskCodes:
    """Wrap-up codes, not-ready reasons and the one-click situations the desk offers."""
    return DeskCodes(
        wrap_up_codes=list(typing.get_args(WrapUpCode)),
        not_ready_reasons=list(typing.get_args(NotReadyReason)),
        situations=list(typing.get_args(Situation)),
        answer_limit_seconds=request.app.state.settings.answer_limit_seconds,
    )


@desk.get("/state", response_model=DeskStateRead)
async def my_desk(caller: SoloAgent, hub: HubDep) -> DeskStateRead:
    """My seat, the call ringing at it or in my hands (from the shared floor). Looking keeps
    the seat on the floor as an open event stream does (a desk that polls)."""
    await hub.seen([caller.subject], clock.now())
    floor = await hub.read()
    if caller.subject not in floor.seats:
        async with hub.change() as step:
            step.floor.sign_in(
                caller.subject,
                caller.principal.name or caller.subject,
                caller.principal.staff_no or "",
                clock.now(),
            )
            floor = step.floor
    return _state(floor, caller.subject)


@desk.put("/state", response_model=DeskStateRead)
async def set_desk_state(body: DeskStateUpdate, caller: SoloAgent, hub: HubDep) -> DeskStateRead:
    """Ready, or not ready with a reason (break, meal, training, ...)."""
    await hub.seen([caller.subject], clock.now())
    async with hub.change() as step:
        if caller.subject not in step.floor.seats:
            step.floor.sign_in(
                caller.subject,
                caller.principal.name or caller.subject,
                caller.principal.staff_no or "",
                clock.now(),
            )
        try:
            step.add(step.floor.set_state(caller.subject, body.state, clock.now(), body.reason))
        except IllegalState as error:
            raise Problem(409, "illegal-state", "Cannot change state now", str(error)) from error
    return _state(step.floor, caller.subject)


@desk.post("/wrap-up", response_model=DeskStateRead)
async def wrap_up(body: DeskWrapUp, caller: SoloAgent, hub: HubDep) -> DeskStateRead:
    """End after-call work with a wrap-up code; ready again, or not ready with a reason."""
    if not body.ready and body.reason is None:
        raise Problem(
            422,
            "missing-fields",
            "A not-ready reason is required",
            "choose why you are not ready",
            errors=[{"field": "reason", "message": "required when ready is false"}],
        )
    await hub.seen([caller.subject], clock.now())
    async with hub.change() as step:
        seat = step.floor.seats.get(caller.subject)
        call_id = body.call_id or (seat.call_id if seat else None)
        try:
            step.add(
                step.floor.finish_wrap_up(caller.subject, body.ready, clock.now(), body.reason)
            )
        except IllegalState as error:
            raise Problem(409, "illegal-state", "Nothing to wrap up", str(error)) from error
    await desk_store.record_wrap_up(
        _engine(hub), caller.subject, call_id, body.code, body.ready, body.reason
    )
    await desk_store.drop_draft(_engine(hub), caller.subject)
    return _state(step.floor, caller.subject)


@desk.get("/draft", response_model=DraftRead, responses={204: {"description": "No draft"}})
async def get_draft(caller: SoloAgent, hub: HubDep):
    """What I had on screen for the call in hand: script position, typed fields, ticket."""
    row = await desk_store.get_draft(_engine(hub), caller.subject)
    if row is None:
        return Response(status_code=204)
    return DraftRead(call_id=row["call_id"], data=row["data"], updated_at=row["updated_at"])


@desk.put("/draft", response_model=DraftRead)
async def put_draft(body: DraftWrite, caller: SoloAgent, hub: HubDep) -> DraftRead:
    row = await desk_store.put_draft(_engine(hub), caller.subject, body.call_id, body.data)
    return DraftRead(call_id=row["call_id"], data=row["data"], updated_at=row["updated_at"])


@desk.post("/etiquette", response_model=EtiquetteRead)
async def check_phrases(
    body: EtiquetteText, caller: StaffCaller, upstream: UpstreamDep
) -> EtiquetteRead:
    """The forbidden service phrases (服务忌语) in text meant for the customer, as it is typed
    (an agent's, or a department's reply)."""
    return EtiquetteRead(**await upstream.etiquette_check(caller.token, body.text))


@desk.get("/lines", response_model=GreetingRead)
async def lines(
    caller: AgentCaller,
    upstream: UpstreamDep,
    call_id: str | None = None,
    language: Literal["zh", "en", "dialect"] = "zh",
    situation: typing.Annotated[list[Situation], Query()] = [],  # noqa: B006
    closing_for: str = "general",
    reply_within_working_days: typing.Annotated[int | None, Query(ge=1, le=60)] = None,
) -> GreetingRead:
    """Greeting, announcements, special-situation lines and the closing, from intake's rules."""
    greeting = await upstream.greeting(
        caller.token,
        call_id=call_id,
        language=language,
        closing_for=closing_for,
        situation=list(situation),
        reply_within_working_days=reply_within_working_days,
    )
    return GreetingRead(**greeting)


@desk.post("/tickets/{ticket_id}/complete")
async def complete(
    ticket_id: str, body: TicketCompletion, caller: AgentCaller, upstream: UpstreamDep
) -> dict:
    """Close a consultation or service request at intake with the answer given."""
    return await upstream.complete_ticket(caller.token, ticket_id, {"reply": body.reply})


@desk.get("/tickets/{ticket_id}")
async def ticket(ticket_id: str, caller: AgentCaller, upstream: UpstreamDep) -> dict:
    """One ticket, for the caller card's drill-down."""
    return await upstream.ticket(caller.token, ticket_id)


@desk.get(
    "/tickets/{ticket_id}/reply-promise",
    response_model=ReplyPromiseRead,
    responses={204: {"description": "No reply is promised for this ticket's type"}},
)
async def reply_promise(ticket_id: str, caller: AgentCaller, upstream: UpstreamDep):
    """The date to promise in the closing: intake computed it from the policy pack in force
    when the ticket was recorded, so it is there as soon as the ticket is."""
    promise = (await upstream.ticket(caller.token, ticket_id)).get("reply_promise")
    if not promise:
        return Response(status_code=204)
    return ReplyPromiseRead(
        limit_key=promise["limit_key"], policy=promise["policy_pack"], due_at=promise["due_at"]
    )


@desk.get("/caller-cards/{number}")
async def caller_card(number: str, caller: AgentCaller, upstream: UpstreamDep) -> dict:
    """The caller card of any number (the number the caller gives when it differs)."""
    return await upstream.caller_card_of_number(caller.token, number)


@desk.get("/escalations/{escalation_id}", response_model=EscalationOutcomeRead)
async def my_escalation(
    escalation_id: str, caller: SoloAgent, hub: HubDep
) -> EscalationOutcomeRead:
    """What the duty supervisor did with my escalation (none yet: outcome null)."""
    row = await desk_store.escalation(_engine(hub), escalation_id)
    if row is None or (row["agent_id"] and row["agent_id"] != caller.subject):
        return EscalationOutcomeRead(
            escalation_id=escalation_id, outcome=None, supervisor_id=None, resolved_at=None
        )
    return EscalationOutcomeRead(
        escalation_id=escalation_id,
        outcome=row["outcome"],
        supervisor_id=row["supervisor_id"],
        resolved_at=row["resolved_at"],
        reason=row["reason"],
    )


routers = [desk]
