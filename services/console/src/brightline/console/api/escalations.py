"""The supervisor's escalations with their context: who asked (the agent by name), about which
call and caller, and which ticket, so the supervisor acts without looking anything up."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from brightline.console.api.deps import HubDep, SupervisorCaller, UpstreamDep
from brightline.platform import clock
from brightline.platform.problems import Problem

router = APIRouter(prefix="/api/supervisor/escalations", tags=["supervisor"])


class EscalationContext(BaseModel):
    id: str
    reason: str
    note: str | None
    status: str
    requested_at: datetime
    agent_id: str
    agent_name: str | None
    agent_staff_no: str | None
    agent_state: str | None
    call_id: str | None
    caller_number: str | None
    caller_name: str | None
    ticket_id: str | None
    ticket_no: str | None
    ticket_type: str | None


async def _or_none(pending) -> dict | None:
    # A name that cannot be found leaves its field empty; the escalation still shows.
    try:
        return await pending
    except Problem:
        return None


@router.get("/context", response_model=list[EscalationContext])
async def escalations_in_context(
    caller: SupervisorCaller, upstream: UpstreamDep, hub: HubDep
) -> list[dict]:
    """Open escalations, oldest first, each with its agent, caller and ticket by name."""
    open_ones = sorted(
        await upstream.escalations(caller.token, "open"), key=lambda e: e["requested_at"]
    )
    seats = {a["agent_id"]: a for a in (await hub.read()).snapshot(clock.now())["agents"]}

    async def context(e: dict) -> dict:
        card, ticket = await asyncio.gather(
            _or_none(upstream.caller_card(caller.token, e["call_id"]))
            if e.get("call_id")
            else asyncio.sleep(0),
            _or_none(upstream.ticket(caller.token, e["ticket_id"]))
            if e.get("ticket_id")
            else asyncio.sleep(0),
        )
        seat = seats.get(e["agent_id"]) or {}
        customers = (card or {}).get("customers") or []
        return {
            **e,
            "agent_name": seat.get("name"),
            "agent_staff_no": seat.get("staff_no"),
            "agent_state": seat.get("state"),
            "caller_name": customers[0].get("name") if customers else None,
            "ticket_no": (ticket or {}).get("no"),
            "ticket_type": (ticket or {}).get("ticket_type"),
        }

    return list(await asyncio.gather(*(context(e) for e in open_ones)))
