"""The supervisor's clocks: every open deadline with its time left, and the pause and resume the
pack allows (the SLA monitor decides; these routes only hand the supervisor's word over)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from brightline.calendar.policy import adopted_book
from brightline.console.api.deps import ChasesDep, SupervisorCaller, UpstreamDep
from brightline.console.domain import clocks
from brightline.platform import clock

router = APIRouter(prefix="/api/supervisor/clocks", tags=["supervisor"])

Kind = Literal["call", "arrival", "transfer", "reply", "callback", "service"]


class ClockRead(BaseModel):
    id: str
    limit_key: str
    kind: Kind
    state: Literal["open", "warned", "breached", "paused"]
    ticket_id: str | None
    subject_id: str
    unit_id: str | None
    ticket_type: str | None
    opened_at: datetime
    due_at: datetime | None
    paused_since: datetime | None
    seconds_left: float | None = Field(description="Negative once overdue")
    elapsed: float | None = Field(description="Share of the span gone: 1.0 at the due time")
    pausable: bool = Field(description="The pack in force lets this limit's clock stop")
    chases: int
    last_chased_at: datetime | None
    owner: str | None = Field(
        None, description="Who it waits on, where known: crew:<id> (dispatch), department:<id>"
    )
    owner_name: str | None = None


class ClockPause(BaseModel):
    reason: Literal["waiting_for_customer", "customer_requested_appointment"]
    note: str | None = Field(None, max_length=200)


def _pausable(deadline: Mapping) -> bool:
    """As the pack the deadline was opened under says (by its ref), else the one in force then."""
    book = adopted_book()
    pack = next((p for p in book.packs if p.ref == deadline.get("policy")), None)
    try:
        pack = pack or book.in_force(datetime.fromisoformat(str(deadline["opened_at"])))
        return pack.limit(str(deadline["limit_key"])).pausable
    except (KeyError, LookupError, ValueError):
        return False


@router.get("", response_model=list[ClockRead])
async def open_clocks(
    caller: SupervisorCaller,
    upstream: UpstreamDep,
    chase_log: ChasesDep,
    kind: Kind | None = None,
    unit_id: str | None = None,
    owner: str | None = None,
) -> list[dict]:
    """Open, warned, breached and paused deadlines, most urgent first, with the chases made and
    each one's owner where its service knows it (filter by `owner`, e.g. `crew:<id>`)."""
    found = await asyncio.gather(
        *(upstream.deadlines_in_state(caller.token, s) for s in clocks.OPEN_STATES)
    )
    deadlines = [d for batch in found for d in batch]
    # Owners are a help, not a condition: a service that does not answer leaves them unknown.
    orders, crews, cases, departments = (
        [] if isinstance(r, BaseException) else r
        for r in await asyncio.gather(
            # Every open clock's order is open: the newest orders of any status would miss
            # the older ones still running in a storm.
            upstream.work_orders(caller.token, status="open", limit=500),
            upstream.crews(caller.token),
            upstream.cases(caller.token),
            upstream.departments(caller.token),
            return_exceptions=True,
        )
    )
    rows = clocks.board(
        deadlines,
        clock.now(),
        pausable=_pausable,
        kind=kind,
        unit_id=unit_id,
        owners=clocks.owners(
            deadlines, orders=orders, crews=crews, cases=cases, departments=departments
        ),
        owner=owner,
    )
    chased = await chase_log.chases_for([r.id for r in rows])
    return [
        {
            **r.__dict__,
            "chases": len(chased.get(r.id, [])),
            "last_chased_at": chased[r.id][-1]["at"] if chased.get(r.id) else None,
        }
        for r in rows
    ]


@router.post("/{deadline_id}/pause")
async def pause_clock(
    deadline_id: str, body: ClockPause, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.pause_deadline(caller.token, deadline_id, body.model_dump())


@router.post("/{deadline_id}/resume")
async def resume_clock(deadline_id: str, caller: SupervisorCaller, upstream: UpstreamDep) -> dict:
    return await upstream.resume_deadline(caller.token, deadline_id)
