"""Search, one ticket, its timeline, exports, and the confidential-read audit over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from brightline.confidentiality import Confidentiality, Viewer
from brightline.contracts.events.common import TicketType
from brightline.messaging import UnitOfWork, UnitOfWorkDep
from brightline.platform import clock
from brightline.platform.auth import (
    StaffOrSystem,
    Supervisor,
    SupervisorOrSystem,
)
from brightline.platform.phones import normalise_phone
from brightline.platform.problems import Problem
from brightline.records.adapters import export
from brightline.records.adapters.repository import (
    CASE_TYPES,
    Cursor,
    SearchQuery,
    TicketRepository,
    TicketView,
)
from brightline.records.api.deps import RulesDep, viewer_of
from brightline.records.api.schemas import (
    ConfidentialReadRead,
    TicketPagination,
    TicketRead,
    TimelineEntryRead,
    TimelineRead,
)

tickets_router = APIRouter(prefix="/tickets", tags=["records"])
audit_router = APIRouter(tags=["records-audit"])


# async although it awaits nothing: FastAPI runs a plain `def` dependency in its thread pool,
# and on a busy machine the hand-over to a worker thread and back (GIL, scheduling) was a tenth
# of the records process's time under 4 concurrent searches, and much of their latency tail.
async def search_query(
    ticket_no: Annotated[str | None, Query(max_length=64, description="工单号, exact")] = None,
    phone: Annotated[
        str | None,
        Query(max_length=40, description="Exact; +86, spaces and dashes are ignored"),
    ] = None,
    name: Annotated[
        str | None, Query(max_length=100, description="Customer name, any part of it")
    ] = None,
    address: Annotated[str | None, Query(max_length=200, description="Any part of it")] = None,
    ticket_type: Annotated[list[TicketType] | None, Query()] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    unit_id: Annotated[str | None, Query(max_length=100)] = None,
    owner: Annotated[
        str | None, Query(max_length=100, description="Current first-ask owner")
    ] = None,
    recorded_from: Annotated[date | None, Query(description="First day, business timezone")] = None,
    recorded_to: Annotated[date | None, Query(description="Last day (inclusive)")] = None,
    has_breached: Annotated[bool | None, Query(description="Any deadline breached")] = None,
) -> SearchQuery:
    normalised = normalise_phone(phone) if phone else None
    if phone and not normalised:
        raise Problem(
            422,
            "validation-error",
            "The phone number has no digits",
            errors=[{"field": "phone", "message": "give the number's digits"}],
        )
    for field, day in (("recorded_from", recorded_from), ("recorded_to", recorded_to)):
        if day and not 1900 <= day.year <= 9000:
            raise Problem(
                422,
                "validation-error",
                f"{field} is out of range",
                errors=[{"field": field, "message": "a year between 1900 and 9000"}],
            )
    if recorded_from and recorded_to and recorded_from > recorded_to:
        raise Problem(
            422,
            "validation-error",
            "recorded_from is after recorded_to",
            errors=[{"field": "recorded_from", "message": "must not be after recorded_to"}],
        )
    return SearchQuery(
        ticket_no=ticket_no.strip() if ticket_no else None,
        phone=normalised,
        name=name,
        address=address,
        ticket_types=tuple(ticket_type or ()),
        status=status,
        unit_id=unit_id,
        owner=owner,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
        has_breached=has_breached,
    )


QueryDep = Annotated[SearchQuery, Depends(search_query)]


def business_tz(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.business_timezone)


def ticket_read(ticket: TicketView, rules: Confidentiality, viewer: Viewer) -> TicketRead:
    is_case = ticket.ticket_type in CASE_TYPES
    shown = not is_case or rules.may_see_identity(ticket, viewer)
    shown = shown and not ticket.anonymous
    return TicketRead(
        ticket_id=ticket.ticket_id,
        ticket_no=ticket.ticket_no,
        ticket_type=ticket.ticket_type,
        status=ticket.status,
        recorded_at=ticket.recorded_at,
        first_ask_owner=ticket.first_ask_owner,
        owner=ticket.owner,
        unit_id=ticket.unit_id,
        department_id=ticket.department_id or None,  # NO_DEPARTMENT: none holds it
        area_code=ticket.area_code,
        has_breached=ticket.has_breached,
        anonymous=ticket.anonymous,
        linked_ticket_id=ticket.linked_ticket_id,
        confidential=is_case and rules.restricted(ticket.case_type),
        identity_hidden=not shown,
        caller_name=ticket.caller_name if shown else None,
        phone=ticket.phone if shown else None,
        address=ticket.address if shown else None,
        customer_id=ticket.customer_id if shown else None,
    )


def restricted(tickets: list[TicketView], rules: Confidentiality) -> list[TicketView]:
    return [t for t in tickets if t.ticket_type in CASE_TYPES and rules.restricted(t.case_type)]


async def _search(
    uow: UnitOfWork,
    query: SearchQuery,
    *,
    rules: Confidentiality,
    viewer: Viewer,
    tz: ZoneInfo,
    limit: int,
    cursor: str | None,
    action: str,
) -> tuple[list[TicketView], Cursor | None]:
    after = None
    if cursor:
        try:
            after = Cursor.decode(cursor)
        except (ValueError, TypeError) as error:
            raise Problem(
                422,
                "validation-error",
                "Not a cursor from this search",
                errors=[{"field": "cursor", "message": "pass next_cursor of the previous page"}],
            ) from error
    async with uow:
        repo = TicketRepository(uow.session, tz)
        found, next_cursor = await repo.search(
            query, rules=rules, viewer=viewer, limit=limit, after=after
        )
        audited = restricted(found, rules)
        if audited:
            await repo.audit(audited, viewer, action=action, granted=True, at=clock.now())
            await uow.commit()
    return found, next_cursor


@tickets_router.get("", response_model=TicketPagination)
async def search_tickets(
    request: Request,
    uow: UnitOfWorkDep,
    staff: StaffOrSystem,
    rules: RulesDep,
    query: QueryDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TicketPagination:
    """Find tickets across every service, newest first, one keyset page at a time. Reports are
    found only by the roles the confidentiality rules name; every report found is audited."""
    viewer = viewer_of(staff)
    limit = min(limit, request.app.state.settings.page_max)
    found, next_cursor = await _search(
        uow,
        query,
        rules=rules,
        viewer=viewer,
        tz=business_tz(request),
        limit=limit,
        cursor=cursor,
        action="search",
    )
    return TicketPagination(
        items=[ticket_read(t, rules, viewer) for t in found],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )


@tickets_router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            },
            "description": "The whole result as a file",
        }
    },
)
async def export_tickets(
    request: Request,
    uow: UnitOfWorkDep,
    principal: SupervisorOrSystem,
    rules: RulesDep,
    query: QueryDep,
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    """The whole result of a search as CSV or XLSX (at most RECORDS_EXPORT_MAX_ROWS rows: narrow
    the search beyond that). The same confidentiality as the search; reports in it are audited."""
    viewer = viewer_of(principal)
    settings = request.app.state.settings
    page = min(settings.page_max, settings.export_max_rows + 1)
    rows: list[TicketRead] = []
    cursor: str | None = None
    while True:
        found, next_cursor = await _search(
            uow,
            query,
            rules=rules,
            viewer=viewer,
            tz=business_tz(request),
            limit=page,
            cursor=cursor,
            action="export",
        )
        rows.extend(ticket_read(t, rules, viewer) for t in found)
        if len(rows) > settings.export_max_rows:
            raise Problem(
                422,
                "export-too-large",
                "The result is too large to export",
                f"more than {settings.export_max_rows} tickets; narrow the search",
            )
        if next_cursor is None:
            break
        cursor = next_cursor.encode()
    tz = business_tz(request)
    if format == "xlsx":
        return Response(
            export.xlsx(rows, tz),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="tickets.xlsx"'},
        )
    return Response(
        export.csv_text(rows, tz).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tickets.csv"'},
    )


async def visible_ticket(
    uow: UnitOfWork,
    ticket_id: str,
    *,
    rules: Confidentiality,
    viewer: Viewer,
    tz: ZoneInfo,
    action: str,
) -> tuple[TicketView, TicketRepository]:
    repo = TicketRepository(uow.session, tz)
    ticket = await repo.get(ticket_id)
    not_found = Problem(404, "not-found", "No such ticket", f"ticket {ticket_id} is not known")
    if ticket is None or ticket.recorded_at is None:
        raise not_found
    is_case = ticket.ticket_type in CASE_TYPES
    allowed = not is_case or rules.may_find(ticket, viewer)
    if is_case and rules.restricted(ticket.case_type):
        await repo.audit([ticket], viewer, action=action, granted=allowed, at=clock.now())
        await uow.commit()  # the refused attempt stays in the audit too
        await uow.session.begin()
    if not allowed:
        raise not_found  # a report does not exist for those who may not find it
    return ticket, repo


@tickets_router.get("/{ticket_id}", response_model=TicketRead)
async def get_ticket(
    ticket_id: str, request: Request, uow: UnitOfWorkDep, staff: StaffOrSystem, rules: RulesDep
) -> TicketRead:
    """One ticket as the read side knows it (by its id; search by 工单号 with `?ticket_no=`)."""
    viewer = viewer_of(staff)
    async with uow:
        ticket, _ = await visible_ticket(
            uow, ticket_id, rules=rules, viewer=viewer, tz=business_tz(request), action="ticket"
        )
    return ticket_read(ticket, rules, viewer)


@tickets_router.get("/{ticket_id}/timeline", response_model=TimelineRead)
async def get_timeline(
    ticket_id: str, request: Request, uow: UnitOfWorkDep, staff: StaffOrSystem, rules: RulesDep
) -> TimelineRead:
    """The ticket's whole life across every service, oldest first: its call, the recording,
    links, work order and crew steps, incident, case transfers and replies, deadlines,
    callbacks, reopens, owner changes, and any event this build does not know (kind `other`)."""
    viewer = viewer_of(staff)
    async with uow:
        ticket, repo = await visible_ticket(
            uow, ticket_id, rules=rules, viewer=viewer, tz=business_tz(request), action="timeline"
        )
        entries = await repo.timeline(ticket)
    read = ticket_read(ticket, rules, viewer)
    return TimelineRead(
        ticket=read,
        entries=[
            TimelineEntryRead.model_validate(
                # The call's id leads to the caller's number at intake: withheld with the caller.
                {**e, "call_id": None} if read.identity_hidden else dict(e)
            )
            for e in entries
        ],
    )


@audit_router.get("/audit/confidential-reads", response_model=list[ConfidentialReadRead])
async def list_confidential_reads(
    request: Request,
    uow: UnitOfWorkDep,
    supervisor: Supervisor,
    ticket_id: str | None = None,
    reader: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ConfidentialReadRead]:
    """Every read of a report through records (search hits, exports, ticket and timeline
    reads, refused attempts included), newest first."""
    async with uow:
        rows = await TicketRepository(uow.session, business_tz(request)).confidential_reads(
            ticket_id=ticket_id, reader=reader, limit=limit
        )
    return [ConfidentialReadRead.model_validate(dict(r)) for r in rows]


routers = [tickets_router, audit_router]
