"""The telephony switch's CTI webhook, and call records for agents."""

from __future__ import annotations

from fastapi import APIRouter

from brightline.intake.adapters.repository import CallRepository
from brightline.intake.api.schemas import CallRead, CtiAck, CtiEvent
from brightline.intake.domain.calls import CallRecord, TimesOutOfOrder
from brightline.intake.domain.commands import RecordCallEvent
from brightline.messaging import BusDep, UnitOfWorkDep
from brightline.platform.auth import Desk, Integration
from brightline.platform.problems import Problem

cti = APIRouter(prefix="/cti", tags=["cti"])
router = APIRouter(prefix="/calls", tags=["calls"])

ANSWER_LIMIT_SECONDS = (
    12  # 4 rings (seed 004); the SLA monitor owns the limit, this is a display hint
)

# What each switch event must carry (a generic CTI webhook's fields, camelCase).
REQUIRED_BY_EVENT = {
    "newCall": ("callerNumber", "calledNumber", "queue"),
    "answer": ("agentExtension",),
    "hangup": (),
}


def call_read(row) -> CallRead:
    delay = row.answer_delay_seconds
    if isinstance(row, CallRecord):
        delay = row.answer_delay_seconds
    return CallRead(
        call_id=row.call_id,
        state=row.state,
        caller_number=row.caller_number,
        called_number=row.called_number,
        queue=row.queue,
        agent_extension=row.agent_extension,
        agent_id=row.agent_id,
        rang_at=row.rang_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        end_cause=row.end_cause,
        answer_delay_seconds=delay,
        answered_within_12s=None if delay is None else delay <= ANSWER_LIMIT_SECONDS,
    )


@cti.post("/events", response_model=CtiAck)
async def switch_event(
    body: CtiEvent, uow: UnitOfWorkDep, bus: BusDep, switch: Integration
) -> CtiAck:
    """newCall / answer / hangup from the switch. Idempotent on (callId, event): a repeat is
    acknowledged with `duplicate: true` and changes nothing. Events may arrive in any order."""
    raw = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    missing = [f for f in REQUIRED_BY_EVENT[body.event] if raw.get(f) in (None, "")]
    if missing:
        raise Problem(
            422,
            "missing-fields",
            "Required fields are missing",
            f"a {body.event} event needs: {', '.join(missing)}",
            errors=[{"field": f, "message": f"required for {body.event}"} for f in missing],
        )
    if body.timestamp.tzinfo is None:
        raise Problem(
            422,
            "validation-error",
            "Request is not valid",
            "timestamp needs a timezone offset",
            errors=[{"field": "timestamp", "message": "timezone offset required"}],
        )
    async with uow:
        try:
            call, first = await bus.handle(
                RecordCallEvent(
                    call_id=body.call_id,
                    event=body.event,
                    timestamp=body.timestamp,
                    body=raw,
                    caller_number=body.caller_number,
                    called_number=body.called_number,
                    queue=body.queue,
                    agent_extension=body.agent_extension,
                    agent_id=body.agent_id,
                    cause=body.cause,
                ),
                uow,
            )
        except TimesOutOfOrder as error:
            # Nothing is written: the transaction (the event row too) rolls back.
            raise Problem(
                422,
                "validation-error",
                "Request is not valid",
                str(error),
                errors=[{"field": "timestamp", "message": str(error)}],
            ) from error
        await uow.commit()
    return CtiAck(duplicate=not first, call=call_read(call))


@router.get("/{call_id}", response_model=CallRead)
async def get_call(call_id: str, uow: UnitOfWorkDep, agent: Desk) -> CallRead:
    async with uow:
        row = await CallRepository(uow.session).get(call_id)
    if row is None:
        raise Problem(404, "not-found", "No such call", f"call {call_id} is unknown")
    return call_read(row)


routers = [cti, router]
