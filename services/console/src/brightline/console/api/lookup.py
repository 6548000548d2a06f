"""Look-ups for the desk and the supervisor: the search box over records (工单号, phone, name,
address, filters) and a ticket's timeline; an unknown caller's customer found in intake's
directory and linked to the call; the service areas for the address field; the whole callback
worklist. Each passes the user's own token on, so records' confidentiality rules decide what a
report shows to whom."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from brightline.console.api.deps import AgentCaller, StaffCaller, UpstreamDep
from brightline.console.api.lookup_schemas import (
    CustomerFound,
    CustomerLink,
    RecordPage,
    RecordSearch,
    ServiceArea,
    Timeline,
    WaitingCallbacks,
)
from brightline.contracts.events.common import TicketType
from brightline.platform.validation import PageOffset

lookup = APIRouter(prefix="/api", tags=["lookup"])


@lookup.get("/records/tickets", response_model=RecordPage)
async def search_tickets(
    search: Annotated[RecordSearch, Query()], caller: AgentCaller, upstream: UpstreamDep
) -> RecordPage:
    """Tickets by 工单号 (exact), phone (any format), name or address (any part), with type,
    status and date filters; keyset pages (next_cursor)."""
    params = search.model_dump(exclude_none=True)
    if not params.get("ticket_type"):
        params.pop("ticket_type", None)
    return RecordPage(**await upstream.search_tickets(caller.token, params))


@lookup.get("/records/tickets/{ticket_id}/timeline", response_model=Timeline)
async def timeline(ticket_id: str, caller: StaffCaller, upstream: UpstreamDep) -> Timeline:
    """One ticket's life across every service, oldest first; a department's caseworker opens the
    ticket of a case it holds (records' confidentiality rules decide what it shows them)."""
    return Timeline(**await upstream.timeline(caller.token, ticket_id))


@lookup.get("/customers", response_model=list[CustomerFound])
async def find_customers(
    q: Annotated[str, Query(min_length=2, max_length=100)],
    caller: AgentCaller,
    upstream: UpstreamDep,
) -> list[CustomerFound]:
    """An unknown caller's customer, by account number, name or address."""
    return [CustomerFound(**c) for c in await upstream.find_customers(caller.token, q)]


@lookup.post("/customers/link")
async def link_customer(body: CustomerLink, caller: AgentCaller, upstream: UpstreamDep) -> dict:
    """The caller card with the call linked to the customer the agent found."""
    return await upstream.caller_card_of_customer(caller.token, body.customer_id, body.call_id)


@lookup.get("/service-areas", response_model=list[ServiceArea])
async def service_areas(caller: AgentCaller, upstream: UpstreamDep) -> list[ServiceArea]:
    """The service areas an address can lie in (dispatch's), for the ticket form."""
    return [ServiceArea(**a) for a in await upstream.service_areas(caller.token)]


@lookup.get("/callbacks/waiting", response_model=WaitingCallbacks)
async def waiting_callbacks(
    caller: AgentCaller,
    upstream: UpstreamDep,
    ticket_type: TicketType | None = None,
    due: Literal["all", "overdue"] = "all",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: PageOffset = 0,
) -> WaitingCallbacks:
    """Every callback task still waiting, soonest due first, one page at a time."""
    page = await upstream.waiting_callbacks(
        caller.token,
        ticket_type=ticket_type,
        overdue=str(due == "overdue").lower(),
        limit=limit,
        offset=offset,
    )
    return WaitingCallbacks(**page)


routers = [lookup]
