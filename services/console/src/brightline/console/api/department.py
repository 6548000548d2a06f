"""The department's desk (承办部门): the complaints, reports and other cases transferred to the
caseworker's department, the reply soonest due first, and the steps the department takes on one
(accept, record the investigation, reply), each handed over to casework, which decides: it scopes
every read to the caller's department, refuses a step out of turn (409) and a reply holding a
forbidden phrase (422 naming it). The reply goes back to the agent who took the call (首问负责制),
who answers the customer. A reporter's identity is never in these views: the one audited read of
the contact is casework's, behind its confidentiality rules."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from brightline.console.api.deps import CaseworkerCaller, UpstreamDep
from brightline.console.api.routes import _problem, seconds_until
from brightline.platform import clock
from brightline.platform.problems import Problem
from brightline.platform.validation import Said

router = APIRouter(prefix="/api/department", tags=["department"])
# The statuses in which the case is the department's to move: transferred to it (to accept),
# accepted and being investigated (to reply). After the reply it is the first-ask owner's.
HELD = ("transferred", "accepted", "investigating")


class DepartmentCase(BaseModel):
    id: str
    ticket_id: str
    ticket_no: str | None
    case_type: str
    status: str
    complaint_subtype: str | None
    complaint_grade: str | None
    anonymous: bool
    confidential: bool
    opened_at: datetime
    reply_due: datetime | None = Field(description="The reply limit the SLA monitor set")
    reply_seconds_left: float | None = Field(
        description="Seconds to the reply limit on the console's clock (negative: overdue)"
    )
    sent_back: bool = Field(False, description="The reply came back (退回重办): reply anew")


class Department(BaseModel):
    id: str
    name: str
    case_types: list[str]


class DepartmentQueue(BaseModel):
    department_id: str | None
    department_name: str | None
    cases: list[DepartmentCase]
    departments: list[Department] = Field(
        description="The other active departments, with the case types each handles: where a "
        "case that is not ours is transferred"
    )
    problems: list[dict[str, Any]] = Field(
        description="What casework could not give (the queue is empty then, with why)"
    )


class Forward(BaseModel):
    department_id: str = Field(min_length=1, max_length=64)
    note: Said = Field(
        max_length=2000,
        description="Why it is theirs: the receiving department reads it",
    )


class ReturnToCentre(BaseModel):
    reason: Said = Field(
        max_length=2000,
        description="Why the case is not ours: the duty supervisor reads it and transfers anew",
    )


class Investigation(BaseModel):
    note: Said = Field(max_length=4000)


class Reply(BaseModel):
    text: Said = Field(max_length=8000)


def _with_time_left(case: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {**case, "reply_seconds_left": seconds_until(case.get("reply_due"), now)}


async def _departments(upstream, token: str) -> list[dict[str, Any]]:
    try:  # names and other departments are a help, not a condition
        return [d for d in await upstream.departments(token) if d.get("active", True)]
    except Problem:
        return []


@router.get("/cases", response_model=DepartmentQueue)
async def department_cases(caller: CaseworkerCaller, upstream: UpstreamDep) -> DepartmentQueue:
    """The cases my department holds, the reply soonest due first (a case with no reply limit
    yet after those), then the longest waiting."""
    department_id = caller.principal.department_id
    held, departments = await asyncio.gather(
        upstream.cases(caller.token, status=list(HELD), oldest_first="true"),
        _departments(upstream, caller.token),
        return_exceptions=True,
    )
    if isinstance(departments, BaseException):
        departments = []
    now = clock.now()
    cases = [] if isinstance(held, BaseException) else [_with_time_left(c, now) for c in held]
    cases.sort(key=lambda c: (c.get("reply_due") or "~", c["opened_at"]))
    return DepartmentQueue(
        department_id=department_id,
        department_name=next((d["name"] for d in departments if d["id"] == department_id), None),
        cases=[DepartmentCase.model_validate(c) for c in cases],
        departments=[Department.model_validate(d) for d in departments if d["id"] != department_id],
        problems=[_problem(held)] if isinstance(held, Exception) else [],
    )


@router.get("/cases/{case_id}")
async def department_case(
    case_id: str, caller: CaseworkerCaller, upstream: UpstreamDep
) -> dict[str, Any]:
    """One case as casework shows it to the department (what the customer said, its deadlines,
    reminders and history), with the time left to reply."""
    return _with_time_left(await upstream.case(caller.token, case_id), clock.now())


@router.post("/cases/{case_id}/accept")
async def accept_case(case_id: str, caller: CaseworkerCaller, upstream: UpstreamDep) -> dict:
    """受理: the department takes the case on."""
    return await upstream.case_step(caller.token, case_id, "accept", None)


@router.post("/cases/{case_id}/investigation")
async def record_investigation(
    case_id: str, body: Investigation, caller: CaseworkerCaller, upstream: UpstreamDep
) -> dict:
    """调查: what the department found out, kept in the case's history."""
    return await upstream.case_step(caller.token, case_id, "investigation", body.model_dump())


@router.post("/cases/{case_id}/reply")
async def reply_to_case(
    case_id: str, body: Reply, caller: CaseworkerCaller, upstream: UpstreamDep
) -> dict:
    """答复: the department's reply, for the agent who took the call to answer the customer
    with. Casework refuses it (422, naming the phrase) if it holds a forbidden phrase."""
    return await upstream.case_step(caller.token, case_id, "reply", body.model_dump())


@router.post("/cases/{case_id}/transfer")
async def forward_case(
    case_id: str, body: Forward, caller: CaseworkerCaller, upstream: UpstreamDep
) -> dict:
    """Not ours: the case goes on to the department that handles it (部门间转派), with why.
    Casework refuses a department that does not handle the case's type (422); the case leaves
    this department's queue."""
    return await upstream.transfer_case(caller.token, case_id, body.model_dump())


@router.post("/cases/{case_id}/return")
async def return_to_centre(
    case_id: str, body: ReturnToCentre, caller: CaseworkerCaller, upstream: UpstreamDep
) -> dict:
    """回退: not ours, and no department we know handles it: the case goes back to the centre,
    where the duty supervisor transfers it anew (it is on the supervisor's cases-waiting board,
    with our reason). It leaves this department's queue."""
    return await upstream.case_step(caller.token, case_id, "return", body.model_dump())


@router.get("/cases/{case_id}/contact")
async def case_contact(case_id: str, caller: CaseworkerCaller, upstream: UpstreamDep) -> dict:
    """Who to call about the case, when casework's confidentiality rules let the department see
    it; every read, granted or refused, is in casework's audit."""
    return await upstream.case_contact(caller.token, case_id)
