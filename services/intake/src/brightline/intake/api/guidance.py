"""What the agent says: greetings (opening, announcements, situations, closing), the next
script step, and a forbidden-phrase check for any text meant for a customer."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from brightline.intake.adapters.repository import (
    CallRepository,
    DirectoryRepository,
    OutageRepository,
    TicketRepository,
)
from brightline.intake.adapters.rule_files import greeting_rules
from brightline.intake.api.deps import PhraseBookDep
from brightline.intake.api.schemas import (
    ChoiceRead,
    EtiquetteCheck,
    EtiquetteResult,
    OutcomeRead,
    ScriptAnswers,
    ScriptStep,
    ViolationRead,
)
from brightline.intake.domain import greetings as engine
from brightline.intake.domain.scripts import InvalidAnswer
from brightline.intake.handlers import now, scripts
from brightline.intake.planned_outages import PlannedOutageRepository
from brightline.messaging import UnitOfWorkDep
from brightline.platform.auth import Desk, Staff
from brightline.platform.problems import Problem
from brightline.platform.validation import BusinessMoment

greetings = APIRouter(prefix="/greetings", tags=["greetings"])
script_router = APIRouter(prefix="/scripts", tags=["scripts"])
etiquette = APIRouter(prefix="/etiquette", tags=["etiquette"])


async def _outage_for(
    uow, call_id: str | None, area_code: str | None
) -> engine.OutageNotice | None:
    """The active outage over the caller's area: the given area, or the areas of the customers
    the calling number belongs to."""
    areas = {area_code} if area_code else set()
    if call_id:
        call = await CallRepository(uow.session).get(call_id)
        if call is not None and call.caller_number:
            areas |= {
                c.area_code
                for c in await DirectoryRepository(uow.session).by_phone(call.caller_number)
                if c.area_code
            }
    for outage in await OutageRepository(uow.session).active():
        hit = sorted(areas & set(outage.area_codes))
        if hit:
            # Callers are told the area's name (幸福里), never its code.
            names = dict(zip(outage.area_codes, outage.area_names, strict=False))
            return engine.OutageNotice(
                area=names.get(hit[0]) or hit[0],
                expected_restore_at=outage.expected_restore_at,
                cause=outage.cause,
            )
    # A planned outage (计划停电) in effect is announced the same way, with its work as the cause.
    planned = await PlannedOutageRepository(uow.session).in_effect(areas, now())
    if planned is not None:
        area = sorted(areas & set(planned.area_codes))[0]
        return engine.OutageNotice(
            area=area, expected_restore_at=planned.ends_at, cause=f"计划检修（{planned.reason}）"
        )
    return None


@greetings.get("")
async def greeting(
    request: Request,
    uow: UnitOfWorkDep,
    agent: Desk,
    call_id: str | None = None,
    area_code: str | None = None,
    staff_no: str | None = None,
    language: Literal["zh", "en", "dialect"] = "zh",
    dialect: str | None = None,
    situation: Annotated[list[str], Query()] = [],  # noqa: B006 — FastAPI query list
    closing_for: str = "general",
    reply_within_working_days: Annotated[int | None, Query(ge=1, le=60)] = None,
    at: BusinessMoment | None = None,
    ticket_id: str | None = None,
) -> dict:
    """The greeting for a call from the rules file; a known outage in the caller's area is
    announced first. `at` defaults to the call's ring time, else now. With `ticket_id` (the
    ticket just recorded on this call) the closing thanks for its type and, for a complaint or
    report, says by when the customer hears back, in the unit the pack in force counts (the
    promise computed when the ticket was recorded)."""
    settings = request.app.state.settings
    staff = staff_no or agent.staff_no
    if not staff:
        raise Problem(
            422,
            "missing-fields",
            "Required fields are missing",
            "the token carries no staff number; pass staff_no",
            errors=[{"field": "staff_no", "message": "required"}],
        )
    async with uow:
        call = await CallRepository(uow.session).get(call_id) if call_id else None
        outage = await _outage_for(uow, call_id, area_code)
        ticket = await TicketRepository(uow.session).get(ticket_id) if ticket_id else None
    if ticket_id and ticket is None:
        raise Problem(404, "not-found", "No such ticket", f"ticket {ticket_id} does not exist")
    promise = None
    if ticket is not None:
        closing_for = ticket.type
        promise = reply_promise(ticket.details.get("reply_promise"))
    call_time = at or (call.rang_at if call is not None and call.rang_at else None) or now()
    try:
        ctx = engine.GreetingContext(
            call_time=call_time,
            staff_no=staff,
            unit_name=settings.unit_name,
            unit_name_en=settings.unit_name_en,
            language=language,
            dialect=dialect,
            situations=frozenset(situation),
            outage=outage,
            closing_for=closing_for,
            reply_within=promise
            or (
                engine.ReplyPromise(amount=reply_within_working_days)
                if reply_within_working_days
                else None
            ),
        )
    except ValueError as error:
        raise Problem(
            422,
            "validation-error",
            "Request is not valid",
            str(error),
            errors=[
                {"field": "situation" if "situation" in str(error) else "at", "message": str(error)}
            ],
        ) from error
    result = dataclasses.asdict(greeting_rules().greet(ctx))
    result["transfer_to_supervisor"] = any(
        p["action"] == "transfer_supervisor" for p in result["prompts"]
    )
    return result


# The pack's units -> the closing's reply units (rules/greetings.yaml closing.reply_units).
PACK_UNITS = {"calendar_days": "days", "working_days": "working_days", "hours": "hours"}


def reply_promise(known: dict | None) -> engine.ReplyPromise | None:
    """The reply clock of the pack in force, kept on the ticket when it was recorded, as the
    closing says it: in the pack's own unit, or by its due time when the unit has no spoken
    form."""
    if not known:
        return None
    unit = PACK_UNITS.get(known.get("unit") or "")
    if unit and known.get("amount"):
        return engine.ReplyPromise(amount=int(known["amount"]), unit=unit)
    return engine.ReplyPromise(by=datetime.fromisoformat(known["due_at"]))


@script_router.get("")
async def list_scripts(agent: Desk) -> list[dict]:
    return [
        {
            "ticket_type": s.ticket_type,
            "script": s.ref,
            "required_fields": s.required_fields,
            "optional_fields": s.optional_fields,
        }
        for s in scripts()
    ]


@script_router.post("/{ticket_type}/next", response_model=ScriptStep)
async def next_step(ticket_type: str, body: ScriptAnswers, agent: Desk) -> ScriptStep:
    """Given the answers so far, the next prompt, the fields still required, and the outcome."""
    try:
        script = scripts().get(ticket_type)
    except KeyError as error:
        raise Problem(404, "not-found", "No such script", str(error)) from error
    try:
        step = script.advance(body.answers, body.language)
    except InvalidAnswer as error:
        raise Problem(
            422,
            "invalid-answer",
            "The answer is not one of the choices",
            str(error),
            errors=[
                {
                    "field": f"answers.{error.key}",
                    "message": str(error),
                    "allowed": list(error.allowed),
                }
            ],
        ) from error
    return ScriptStep(
        script=step.script_ref,
        node_id=step.node_id,
        prompt=step.prompt,
        key=step.key,
        is_field=step.is_field,
        agent_only=step.agent_only,
        optional=step.optional,
        choices=[ChoiceRead(value=c.value, label=c.label) for c in step.choices],
        fields_required=step.fields_required,
        outcome=None
        if step.outcome is None
        else OutcomeRead.model_validate(dataclasses.asdict(step.outcome)),
        done=step.done,
        path=list(step.path),
    )


@etiquette.post("/check", response_model=EtiquetteResult)
async def check_text(body: EtiquetteCheck, staff: Staff, book: PhraseBookDep) -> EtiquetteResult:
    """Check text meant for a customer against the forbidden service phrases (服务忌语): the
    agent's, and a department's reply the agent will read to the customer."""
    violations = book.check(body.text)
    return EtiquetteResult(
        polite=not violations,
        violations=[ViolationRead(**dataclasses.asdict(v)) for v in violations],
    )


routers = [greetings, script_router, etiquette]
