"""Who read what is confidential (举报: a whistle-blower's identity, a report at all), for the duty
supervisor and the auditor behind them: casework's reads of a reporter's contact and records'
finds and reads of a report (searches, exports, a ticket or its timeline), refused attempts
included, newest first in one list. Each service keeps its own audit; this only puts the two side
by side, each read named by its 工单号."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from brightline.console.api.deps import SupervisorCaller, UpstreamDep
from brightline.console.api.routes import _problem

router = APIRouter(prefix="/api/supervisor", tags=["supervisor"])
SOURCES: tuple[Literal["casework", "records"], ...] = ("casework", "records")


class ConfidentialRead(BaseModel):
    at: datetime
    reader: str
    roles: list[str]
    department_id: str | None
    ticket_id: str | None
    ticket_no: str | None
    what: str = Field(
        description="casework's reporter_contact (a report's whistle-blower) or customer_contact "
        "(any other case's caller), or records' search, export, ticket, timeline"
    )
    granted: bool
    source: Literal["casework", "records"]


class ConfidentialReads(BaseModel):
    reads: list[ConfidentialRead]
    problems: list[dict[str, Any]] = Field(
        description="A service that could not give its audit (its reads are missing, with why)"
    )


def _casework_read(row: dict[str, Any]) -> str:
    """Casework audits every read of a case's contact: a report's is its whistle-blower's."""
    return "reporter_contact" if row.get("case_type") == "report" else "customer_contact"


def _read(source: Literal["casework", "records"], row: dict[str, Any]) -> ConfidentialRead:
    return ConfidentialRead(
        at=row["at"],
        reader=row["reader"],
        roles=row.get("roles") or [],
        department_id=row.get("department_id"),
        ticket_id=row.get("ticket_id"),
        ticket_no=row.get("ticket_no"),
        what=_casework_read(row) if source == "casework" else row.get("action") or "read",
        granted=row["granted"],
        source=source,
    )


@router.get("/confidential-reads", response_model=ConfidentialReads)
async def confidential_reads(
    caller: SupervisorCaller,
    upstream: UpstreamDep,
    reader: Annotated[str | None, Query(max_length=200, description="One reader's reads")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> ConfidentialReads:
    """The newest `limit` reads of each service, merged newest first."""
    fetched: list[Any] = await asyncio.gather(
        *(
            upstream.confidential_reads(source, caller.token, reader=reader, limit=limit)
            for source in SOURCES
        ),
        return_exceptions=True,
    )
    reads = [
        _read(source, row)
        for source, rows in zip(SOURCES, fetched, strict=True)
        if not isinstance(rows, BaseException)
        for row in rows
    ]
    reads.sort(key=lambda r: r.at, reverse=True)
    return ConfidentialReads(
        reads=reads,
        problems=[_problem(x) for x in fetched if isinstance(x, Exception)],
    )
