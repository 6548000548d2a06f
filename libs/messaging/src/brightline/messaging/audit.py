"""The audit trail of state changes, the same for every service.

Every state change a service makes emits an event, and every emitted event is written to the
service's outbox in the same transaction as the change (brightline.messaging.unit_of_work). The
outbox is therefore a complete, ordered log of what changed: this router lets supervisors query
it. Reads of confidential fields are audited where they happen (casework's
/audit/confidential-reads); this is the log of writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from brightline.messaging.runtime import RuntimeDep
from brightline.messaging.schema import outbox
from brightline.platform.auth import Allow, Principal, Role
from brightline.platform.problems import Problem

Supervisor = Annotated[Principal, Depends(Allow(Role.SUPERVISOR))]


class AuditEvent(BaseModel):
    """One state change: the event the service emitted for it."""

    seq: int  # position in this service's log; pass the last one as `after` for the next page
    event_id: str
    event_type: str
    subject: str  # the aggregate the event is about (its Kafka key)
    source: str
    occurred_at: datetime
    recorded_at: datetime
    published_at: datetime | None
    data: dict[str, Any]


def _utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise Problem(
            422,
            "validation-error",
            "Invalid time",
            str(error),
            errors=[{"field": field, "message": "out of range"}],
        ) from error


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/audit", tags=["audit"])

    @router.get("/events", response_model=list[AuditEvent])
    async def state_change_events(
        runtime: RuntimeDep,
        supervisor: Supervisor,
        subject: Annotated[
            str | None, Query(max_length=200, description="aggregate id (event key)")
        ] = None,
        ticket_id: Annotated[
            str | None, Query(max_length=200, description="events naming this ticket")
        ] = None,
        event_type: Annotated[str | None, Query(max_length=200)] = None,
        since: Annotated[AwareDatetime | None, Query(description="occurred at or after")] = None,
        until: Annotated[AwareDatetime | None, Query(description="occurred before")] = None,
        after: Annotated[
            int | None,
            Query(ge=0, le=2**62, description="seq of the last row of the previous page"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[AuditEvent]:
        """Every state change this service made, oldest first, filtered and paged by `after`."""
        query = sa.select(outbox).order_by(outbox.c.id).limit(limit)
        if subject is not None:
            query = query.where(outbox.c.key == subject)
        if ticket_id is not None:
            query = query.where(
                sa.or_(
                    outbox.c.key == ticket_id,
                    outbox.c.data["ticket_id"].astext == ticket_id,
                    outbox.c.data["linked_ticket_id"].astext == ticket_id,
                    outbox.c.data["ticket_ids"].contains([ticket_id]),
                    outbox.c.data["linked_ticket_ids"].contains([ticket_id]),
                )
            )
        if event_type is not None:
            query = query.where(outbox.c.event_type == event_type)
        if (start := _utc(since, "since")) is not None:
            query = query.where(outbox.c.occurred_at >= start)
        if (end := _utc(until, "until")) is not None:
            query = query.where(outbox.c.occurred_at < end)
        if after is not None:
            query = query.where(outbox.c.id > after)
        async with runtime.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            AuditEvent(
                seq=r["id"],
                event_id=r["event_id"],
                event_type=r["event_type"],
                subject=r["key"],
                source=r["source"],
                occurred_at=r["occurred_at"],
                recorded_at=r["created_at"],
                published_at=r["published_at"],
                data=r["data"],
            )
            for r in rows
        ]

    return router
