"""Shift handover (首问负责制: hands unfinished work to the next shift): the agent leaving hands
the tickets they still own (every one, or those picked) to a colleague on the floor; intake moves
them in one transaction and records who handed what to whom."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from brightline.console.api.deps import AgentCaller, HubDep, UpstreamDep
from brightline.platform import clock
from brightline.platform.problems import Problem

router = APIRouter(prefix="/api/handover", tags=["desk"])


class Colleague(BaseModel):
    agent_id: str
    name: str
    staff_no: str
    state: str


class HandoverRequest(BaseModel):
    to_agent: str = Field(min_length=1, max_length=64)
    ticket_ids: list[str] | None = Field(
        None, min_length=1, max_length=500, description="Only these of my open tickets"
    )


class HandoverDone(BaseModel):
    to_agent: str
    ticket_ids: list[str]


def colleagues_of(floor: dict[str, Any], me: str) -> list[Colleague]:
    """Who can take my tickets: the agents signed in on the floor now, not me."""
    return [
        Colleague(**{k: seat[k] for k in ("agent_id", "name", "staff_no", "state")})
        for seat in floor["agents"]
        if seat["agent_id"] != me and seat["state"] != "offline"
    ]


@router.get("/colleagues", response_model=list[Colleague])
async def colleagues(caller: AgentCaller, hub: HubDep) -> list[Colleague]:
    """The agents on the floor who can take over my open tickets."""
    return colleagues_of((await hub.read()).snapshot(clock.now()), caller.subject)


@router.post("", response_model=HandoverDone)
async def hand_over(
    body: HandoverRequest, caller: AgentCaller, hub: HubDep, upstream: UpstreamDep
) -> HandoverDone:
    """My open tickets (every one, or those named) go to the colleague named, who must be on
    the floor."""
    on_floor = colleagues_of((await hub.read()).snapshot(clock.now()), caller.subject)
    if body.to_agent not in {c.agent_id for c in on_floor}:
        raise Problem(
            422,
            "not-on-the-floor",
            "Hand over to a colleague on the floor",
            f"{body.to_agent} is not signed in on the floor now",
            errors=[{"field": "to_agent", "message": "not on the floor now"}],
        )
    done = await upstream.hand_over(caller.token, body.to_agent, body.ticket_ids)
    return HandoverDone(to_agent=done["to_agent"], ticket_ids=done["ticket_ids"])
