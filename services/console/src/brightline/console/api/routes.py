"""The backend-for-frontend: the live event stream and one route per thing a screen does, each
forwarding the user's token (from the server-side session behind the cookie, or a bearer) to
the service that owns the data. Sign-in is the identity provider's (api/auth.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from brightline.console.api.deps import (
    AgentCaller,
    ChasesDep,
    HubDep,
    SoloAgent,
    StaffCaller,
    SupervisorCaller,
    SwitchToken,
    UpstreamDep,
)
from brightline.console.api.schemas import (
    CallbackOutcome,
    ChaseCreate,
    EscalationResolve,
    ScriptAnswers,
    UserRead,
)
from brightline.messaging.http import IdempotencyKey
from brightline.platform import clock
from brightline.platform.problems import Problem

T = TypeVar("T")

me_router = APIRouter(prefix="/api", tags=["me"])
agent = APIRouter(prefix="/api/agent", tags=["agent"])
work = APIRouter(prefix="/api", tags=["work"])
supervisor = APIRouter(prefix="/api/supervisor", tags=["supervisor"])


@me_router.get("/me", response_model=UserRead)
async def who_am_i(caller: StaffCaller) -> UserRead:
    p = caller.principal
    return UserRead(
        subject=p.subject,
        name=p.name or p.subject,
        staff_no=p.staff_no,
        roles=sorted(p.roles),
        department_id=p.department_id,
    )


@me_router.get("/events")
async def event_stream(
    caller: AgentCaller,
    hub: HubDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=200)] = None,
) -> StreamingResponse:
    """Server-sent events: calls, tickets, escalations, work orders, outages, deadlines as they
    happen, call offers for this agent, and (supervisors) the floor. Reconnecting with
    Last-Event-ID replays the events missed since; `resync` when they are no longer at hand."""
    return StreamingResponse(
        hub.stream(caller.principal, last_event_id=last_event_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ------------------------------------------------------------------------ agent softphone
@agent.post("/calls/{call_id}/answer")
async def answer_call(
    call_id: str, caller: SoloAgent, hub: HubDep, upstream: UpstreamDep, switch: SwitchToken
) -> dict:
    """Answer the offered call: the switch's `answer` goes to intake (which times it against the
    12-second rule); the caller card and the greeting line come back together."""
    seat = (await hub.read()).seats.get(caller.subject)
    if seat is None or seat.call_id != call_id or seat.state not in ("ringing", "talking"):
        raise Problem(
            409,
            "not-offered",
            "This call is not ringing at your seat",
            f"call {call_id} is not offered to {caller.subject}",
        )
    ack = await upstream.cti_event(
        switch,
        {
            "event": "answer",
            "callId": call_id,
            "timestamp": clock.now().isoformat(),
            "agentExtension": caller.principal.staff_no or caller.subject,
            "agentId": caller.subject,
        },
    )
    async with hub.change() as step:
        step.add(step.floor.call_answered(call_id, caller.subject, clock.now(), clock.now()))
    card: dict[str, Any] | BaseException
    greeting: dict[str, Any] | BaseException
    card, greeting = await asyncio.gather(
        upstream.caller_card(caller.token, call_id),
        upstream.greeting(caller.token, call_id=call_id, language="zh"),
        return_exceptions=True,
    )
    return {
        "call": ack.get("call"),
        "card": _ok(card),
        "greeting": _ok(greeting),
        "problems": [_problem(x) for x in (card, greeting) if isinstance(x, Exception)],
    }


@agent.post("/calls/{call_id}/hangup")
async def hang_up(
    call_id: str, caller: SoloAgent, hub: HubDep, upstream: UpstreamDep, switch: SwitchToken
) -> dict:
    """The customer has hung up first (etiquette): the switch's hangup goes to intake; the seat wraps up.
    Only the agent on the call may hang it up."""
    seat = (await hub.read()).seats.get(caller.subject)
    if seat is None or seat.call_id != call_id:
        raise Problem(404, "not-your-call", "You are not on this call", f"call {call_id}")
    ack = await upstream.cti_event(
        switch,
        {
            "event": "hangup",
            "callId": call_id,
            "timestamp": clock.now().isoformat(),
            "cause": "normal",
            "agentExtension": caller.principal.staff_no or caller.subject,
        },
    )
    await hub.seen([caller.subject], clock.now())  # wrap-up follows at this desk
    async with hub.change() as step:
        step.add(step.floor.call_ended(call_id, "normal", clock.now()))
    return {
        "call": ack.get("call"),
        "seat": step.floor.seat_view(step.floor.seats[caller.subject], clock.now())
        if caller.subject in step.floor.seats
        else None,
    }


@work.get("/calls/{call_id}/card")
async def call_card(
    call_id: str, caller: AgentCaller, upstream: UpstreamDep, language: str = "zh"
) -> dict:
    card, greeting = await asyncio.gather(
        upstream.caller_card(caller.token, call_id),
        upstream.greeting(caller.token, call_id=call_id, language=language),
    )
    return {"card": card, "greeting": greeting}


@work.get("/closing")
async def closing_line(
    caller: AgentCaller,
    upstream: UpstreamDep,
    call_id: str | None = None,
    closing_for: str = "general",
    language: str = "zh",
    reply_within_working_days: int | None = None,
    ticket_id: str | None = None,
) -> dict:
    """The closing while the call is live: thanks, when the customer hears back (from the
    ticket's reply clock when `ticket_id` is given), "anything else?", then the goodbye."""
    greeting = await upstream.greeting(
        caller.token,
        call_id=call_id,
        language=language,
        closing_for=closing_for,
        reply_within_working_days=reply_within_working_days,
        ticket_id=ticket_id,
    )
    return {
        "closing": greeting.get("closing"),
        "goodbye": greeting.get("goodbye"),
        "closing_reminder": greeting.get("closing_reminder"),
    }


@work.get("/scripts")
async def list_scripts(caller: AgentCaller, upstream: UpstreamDep) -> list[dict]:
    return await upstream.scripts(caller.token)


@work.post("/scripts/{ticket_type}/next")
async def script_next(
    ticket_type: str, body: ScriptAnswers, caller: AgentCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.script_next(caller.token, ticket_type, body.answers, body.language)


@work.post("/tickets", status_code=201)
async def record_ticket(
    body: dict[str, Any],
    caller: AgentCaller,
    upstream: UpstreamDep,
    idempotency_key: IdempotencyKey = None,
) -> dict:
    """Record the ticket the script filled in; intake validates it (and its 服务忌语)."""
    return await upstream.record_ticket(caller.token, body, idempotency_key)


@work.post("/tickets/{ticket_id}/complete")
async def complete_ticket(
    ticket_id: str, body: dict[str, Any], caller: AgentCaller, upstream: UpstreamDep
) -> dict:
    """Complete a consultation or service request with the answer given (intake checks it for
    服务忌语 and keeps it); its callback is then due."""
    return await upstream.complete_ticket(caller.token, ticket_id, body)


@work.post("/call-outcomes", status_code=201)
async def record_call_outcome(
    body: dict[str, Any],
    caller: AgentCaller,
    upstream: UpstreamDep,
    idempotency_key: IdempotencyKey = None,
) -> dict:
    """A call that ended without a repair or case ticket (self-check solved it, paid service,
    answered on the spot): recorded and closed at intake; `say` is what to tell the caller."""
    return await upstream.record_call_outcome(caller.token, body, idempotency_key)


@work.get("/tickets/mine")
async def my_tickets(caller: AgentCaller, upstream: UpstreamDep) -> list[dict]:
    return await upstream.my_tickets(caller.token, open_only=False)


@work.post("/escalations", status_code=201)
async def escalate(body: dict[str, Any], caller: AgentCaller, upstream: UpstreamDep) -> dict:
    """Ask the duty supervisor for help with, or to take over, a difficult caller."""
    return await upstream.request_escalation(caller.token, body)


# ------------------------------------------------------------------------ callback worklist
@work.post("/callbacks/next")
async def next_callback(caller: SoloAgent, upstream: UpstreamDep) -> dict:
    task = await upstream.next_callback(caller.token)
    if not task:
        return {"task": None}
    script = await upstream.callback_script(caller.token, task["task"]["id"])
    return {**task, "script": script}


@work.post("/callbacks/{task_id}/outcome")
async def callback_outcome(
    task_id: str,
    body: CallbackOutcome,
    caller: SoloAgent,
    upstream: UpstreamDep,
    idempotency_key: IdempotencyKey = None,
) -> dict:
    return await upstream.callback_outcome(
        caller.token, task_id, body.model_dump(exclude_none=True), idempotency_key
    )


# ------------------------------------------------------------------------ supervisor console
@supervisor.get("/floor")
async def floor(caller: SupervisorCaller, hub: HubDep) -> dict:
    """Queues and agent states, live (the console's own view of the floor)."""
    return (await hub.read()).snapshot(clock.now())


@supervisor.get("/escalations")
async def escalation_queue(caller: SupervisorCaller, upstream: UpstreamDep) -> list[dict]:
    return await upstream.escalations(caller.token, "open")


@supervisor.post("/escalations/{escalation_id}/resolution")
async def resolve_escalation(
    escalation_id: str, body: EscalationResolve, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.resolve_escalation(caller.token, escalation_id, body.outcome, body.reason)


@supervisor.get("/breaches")
async def breach_list(
    caller: SupervisorCaller, upstream: UpstreamDep, chase_log: ChasesDep
) -> list[dict]:
    """Open breaches, oldest due first, with the chases (催办) already made."""
    breaches = await upstream.breaches(caller.token)
    chased = await chase_log.chases_for([b["id"] for b in breaches])
    out = []
    for b in sorted(breaches, key=lambda b: b.get("due_at") or ""):
        log = chased.get(b["id"], [])
        out.append(
            {
                **b,
                "chases": len(log),
                "last_chased_at": log[-1]["at"].isoformat() if log else None,
                "last_chased_by": log[-1]["supervisor"] if log else None,
            }
        )
    return out


@supervisor.post("/breaches/{deadline_id}/chase", status_code=201)
async def chase(
    deadline_id: str,
    body: ChaseCreate,
    caller: SupervisorCaller,
    chase_log: ChasesDep,
    hub: HubDep,
    upstream: UpstreamDep,
) -> dict:
    """催办: record that the supervisor chased the people responsible for a deadline, hand it to the
    service that owns the work (`reached`: what it answered), and tell every open console."""
    row = await chase_log.add_chase(
        deadline_id=deadline_id,
        ticket_id=body.ticket_id,
        limit_key=body.limit_key,
        supervisor=caller.subject,
        note=body.note,
    )
    reached = await _chase_owner(caller, upstream, deadline_id, body.ticket_id)
    message = {
        "kind": "chase",
        "data": {
            "deadline_id": deadline_id,
            "ticket_id": body.ticket_id,
            "limit_key": body.limit_key,
            "by": caller.subject,
            "at": row["at"].isoformat(),
            "reached": reached,
        },
    }
    hub.broadcast(message)
    return {**row, "at": row["at"].isoformat(), "reached": reached}


async def _chase_owner(
    caller: SupervisorCaller, upstream: UpstreamDep, deadline_id: str, ticket_id: str | None
) -> dict | None:
    """Hand the chase to the service that owns the work: casework, for a ticket handled as a case
    (it records the chase and tells the department). None when no service owns it (a call, a
    ticket with no case); the owner's refusal is shown, not raised: the chase itself stands."""
    if not ticket_id:
        return None
    try:
        cases = await upstream.cases(caller.token, ticket_id=ticket_id)
        if not cases:
            return None
        deadline = next(
            d
            for d in await upstream.deadlines_of_ticket(caller.token, ticket_id)
            if d["id"] == deadline_id
        )
        case = await upstream.chase_case(
            caller.token,
            cases[0]["id"],
            {
                "deadline_id": deadline_id,
                "limit_key": deadline["limit_key"],
                "due_at": deadline["due_at"],
            },
        )
    except (Problem, StopIteration) as error:
        return {"service": "casework", "ok": False, "problem": _problem(error)}
    return {"service": "casework", "ok": True, "case_id": case["id"], "status": case["status"]}


def seconds_until(at: str | None, now: datetime) -> float | None:
    """Counted here, on the server's clock: the browser counts down from it, whatever its own
    clock says."""
    return (datetime.fromisoformat(at) - now).total_seconds() if at else None


def _ok(value: T | BaseException) -> T | None:
    return None if isinstance(value, BaseException) else value


def _problem(error: Exception) -> dict:
    if isinstance(error, Problem):
        return {
            "status": error.status,
            "type": error.type,
            "title": error.title,
            "detail": error.detail,
            "service": error.extensions.get("service"),
        }
    return {"status": 500, "type": "error", "title": str(error)}


routers = [me_router, agent, work, supervisor]
