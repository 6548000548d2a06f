"""Cases waiting for a department: complaints, reports and the rest that casework opened from a
ticket and nobody has transferred yet (首问负责制: within the transfer limit), oldest first, with
the departments that handle each type; the supervisor's transfer is handed over to casework,
which decides. A report's whistle-blower is never in a summary: casework keeps it apart."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from brightline.console.api.deps import SupervisorCaller, UpstreamDep
from brightline.console.api.routes import _ok, _problem, seconds_until
from brightline.platform import clock

router = APIRouter(prefix="/api/supervisor/cases", tags=["supervisor"])
# The statuses casework transfers from that no department holds yet.
WAITING = ("opened", "reopened")


class Transfer(BaseModel):
    department_id: str = Field(min_length=1, max_length=64)
    note: str | None = Field(None, max_length=2000)


@router.get("/waiting-transfer")
async def cases_waiting_transfer(caller: SupervisorCaller, upstream: UpstreamDep) -> dict[str, Any]:
    """The cases no department holds yet, the longest waiting first, and the active departments
    with the case types each handles. A part casework cannot give is empty, with why."""
    fetched: list[Any] = await asyncio.gather(
        # The longest waiting first: in a storm the queue outgrows a page, and what is left out
        # must be what waited least.
        upstream.cases(caller.token, status=list(WAITING), oldest_first="true"),
        upstream.departments(caller.token),
        return_exceptions=True,
    )
    waiting, departments = fetched
    now = clock.now()
    cases = [
        {**c, "transfer_seconds_left": seconds_until(c.get("transfer_due"), now)}
        for c in (_ok(waiting) or [])
    ]
    return {
        "cases": sorted(cases, key=lambda c: (c.get("transfer_due") or "~", c["opened_at"])),
        "departments": [d for d in _ok(departments) or [] if d.get("active", True)],
        "problems": [_problem(x) for x in fetched if isinstance(x, Exception)],
    }


@router.post("/{case_id}/transfer")
async def transfer_case(
    case_id: str, body: Transfer, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.transfer_case(caller.token, case_id, body.model_dump())
