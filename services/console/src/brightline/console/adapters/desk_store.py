"""The agent desk's own rows: the draft of the call in hand (so a reload restores it), wrap-up
codes, and the escalations the live view saw (so the agent learns what the supervisor did)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from brightline.console.adapters.orm import desk_drafts, escalation_outcomes, wrap_ups
from brightline.platform import clock


async def get_draft(engine: AsyncEngine, agent_id: str) -> dict | None:
    async with engine.connect() as conn:
        row = (
            (await conn.execute(sa.select(desk_drafts).where(desk_drafts.c.agent_id == agent_id)))
            .mappings()
            .first()
        )
    return None if row is None else dict(row)


async def put_draft(engine: AsyncEngine, agent_id: str, call_id: str, data: dict[str, Any]) -> dict:
    now = clock.now()
    stmt = insert(desk_drafts).values(agent_id=agent_id, call_id=call_id, data=data, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[desk_drafts.c.agent_id],
        set_={"call_id": call_id, "data": data, "updated_at": now},
    )
    async with engine.begin() as conn:
        await conn.execute(stmt)
    return {"agent_id": agent_id, "call_id": call_id, "data": data, "updated_at": now}


async def drop_draft(engine: AsyncEngine, agent_id: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(desk_drafts.delete().where(desk_drafts.c.agent_id == agent_id))


async def record_wrap_up(
    engine: AsyncEngine,
    agent_id: str,
    call_id: str | None,
    code: str,
    ready: bool,
    reason: str | None,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            wrap_ups.insert().values(
                id=str(uuid.uuid4()),
                agent_id=agent_id,
                call_id=call_id,
                code=code,
                ready=ready,
                reason=reason,
                at=clock.now(),
            )
        )


async def record_escalation(engine: AsyncEngine, kind: str, data: dict) -> None:
    """escalation.requested / escalation.resolved from intake's topic; every replica sees each
    event, so the write is an idempotent upsert."""
    escalation_id = data.get("escalation_id")
    if not escalation_id:
        return
    values: dict[str, Any] = {"escalation_id": escalation_id}
    if kind == "escalation.requested":
        values |= {"agent_id": data.get("agent_id"), "call_id": data.get("call_id")}
    elif kind == "escalation.resolved":
        values |= {
            "outcome": data.get("outcome"),
            "supervisor_id": data.get("supervisor_id"),
            "resolved_at": _dt(data.get("resolved_at")),
            "reason": data.get("reason"),
        }
    else:
        return
    update = {k: v for k, v in values.items() if k != "escalation_id"}
    stmt = insert(escalation_outcomes).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[escalation_outcomes.c.escalation_id], set_=update
    )
    async with engine.begin() as conn:
        await conn.execute(stmt)


async def escalation(engine: AsyncEngine, escalation_id: str) -> dict | None:
    async with engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    sa.select(escalation_outcomes).where(
                        escalation_outcomes.c.escalation_id == escalation_id
                    )
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else dict(row)


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
