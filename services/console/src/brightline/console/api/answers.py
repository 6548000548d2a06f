"""The first-ask owner's answers (首问负责制 1.1): the cases the agent recorded whose department
has replied, with the reply and the time left to answer the customer (the SLA monitor's
`first_ask.answer` limit as casework holds it), and the answer itself, handed over to casework,
which checks it is the owner's and that it holds no forbidden phrase. A reply that does not do
is sent back to the department with the reason (审核, 退回重办)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from brightline.console.api.deps import AgentCaller, UpstreamDep
from brightline.console.api.routes import seconds_until
from brightline.console.domain.clocks import OPEN_STATES
from brightline.platform import clock
from brightline.platform.problems import Problem
from brightline.platform.validation import Said

router = APIRouter(prefix="/api/cases", tags=["desk"])
ANSWER_LIMIT = "first_ask.answer"


class Answer(BaseModel):
    text: Said = Field(max_length=8000)


class SendBack(BaseModel):
    reason: Said = Field(max_length=2000)


def to_answer(case: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What the agent needs to call the customer back with the department's reply."""
    due = min(
        (
            d["due_at"]
            for d in case.get("deadlines", [])
            if d["limit_key"] == ANSWER_LIMIT and d["state"] in OPEN_STATES
        ),
        default=None,
    )
    return {
        "id": case["id"],
        "ticket_id": case["ticket_id"],
        "ticket_no": case.get("ticket_no"),
        "case_type": case["case_type"],
        "department_id": case.get("department_id"),
        "reply_text": case.get("reply_text"),
        "answer_due": due,
        "answer_seconds_left": seconds_until(due, now),
    }


@router.get("/to-answer")
async def cases_to_answer(caller: AgentCaller, upstream: UpstreamDep) -> list[dict[str, Any]]:
    """My cases the department has replied to, the soonest due first."""
    mine = await upstream.cases(caller.token, first_ask_owner=caller.subject, status="replied")
    cases = await asyncio.gather(*(upstream.case(caller.token, c["id"]) for c in mine))
    try:  # a name is a help, not a condition
        names = {d["id"]: d["name"] for d in await upstream.departments(caller.token)}
    except Problem:
        names = {}
    now = clock.now()
    rows = [
        {**to_answer(c, now), "department_name": names.get(c.get("department_id") or "")}
        for c in cases
    ]
    return sorted(rows, key=lambda r: (r["answer_due"] or "~", r["ticket_no"] or ""))


@router.post("/{case_id}/answer")
async def answer_customer(
    case_id: str, body: Answer, caller: AgentCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.case_step(caller.token, case_id, "answer", body.model_dump())


@router.post("/{case_id}/send-back")
async def send_back_reply(
    case_id: str, body: SendBack, caller: AgentCaller, upstream: UpstreamDep
) -> dict:
    """审核: a reply that does not answer what the customer asked goes back to the department
    (退回重办), with the reason; casework checks the case is mine."""
    return await upstream.case_step(caller.token, case_id, "send-back", body.model_dump())
