"""The customer directory (import from the customer system) and the caller card agents see
while a call rings."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import StringConstraints

from brightline.intake.adapters.repository import (
    CallRepository,
    DirectoryRepository,
    OutageRepository,
    TicketRepository,
)
from brightline.intake.api.routes_util import summary
from brightline.intake.api.schemas import (
    CallerCard,
    CallerFlags,
    CustomerFound,
    CustomerImport,
    CustomerRead,
    OutageRead,
    PlannedOutageNotice,
)
from brightline.intake.handlers import now
from brightline.intake.planned_outages import PlannedOutageRepository
from brightline.messaging import UnitOfWorkDep
from brightline.platform.auth import Desk, Integration
from brightline.platform.problems import Problem

customers = APIRouter(prefix="/customers", tags=["customers"])
cards = APIRouter(tags=["caller-cards"])

RECENT_DAYS = 30


@customers.post("/import")
async def import_customers(body: CustomerImport, uow: UnitOfWorkDep, system: Integration) -> dict:
    """Upsert customers from the customer/billing system (integration role). A customer's phone
    list is replaced by the one imported."""
    ids = [c.customer_id for c in body.customers]
    if len(set(ids)) != len(ids):
        raise Problem(
            422,
            "duplicate-customers",
            "A customer appears twice in one import",
            "send each customer_id once",
            errors=[{"field": "customers", "message": "duplicate customer_id"}],
        )
    async with uow:
        repo, at = DirectoryRepository(uow.session), now()
        for customer in body.customers:
            await repo.upsert(customer.model_dump(), at)
        await uow.commit()
    return {"imported": len(body.customers)}


async def build_card(
    uow, number: str, call_id: str | None, window_hours: int, known: list | None = None
) -> CallerCard:
    """The card of `number`; `known` names the customer when the agent linked the call to one
    found in the directory (a caller phoning from a number the directory does not hold)."""
    at = now()
    directory = DirectoryRepository(uow.session)
    if known is None:
        known = await directory.by_phone(number)
    ids = [c.customer_id for c in known]
    tickets = TicketRepository(uow.session)
    open_tickets = await tickets.list(phone=number, customer_ids=ids, open_only=True)
    recent = await tickets.list(
        phone=number, customer_ids=ids, since=at - timedelta(days=RECENT_DAYS)
    )
    areas = {c.area_code for c in known if c.area_code}
    outages = [o for o in await OutageRepository(uow.session).active() if areas & set(o.area_codes)]
    planned = await PlannedOutageRepository(uow.session).over(areas, ending_after=at)
    flag = await directory.flag(number)
    earlier_calls = await CallRepository(uow.session).other_calls_from(
        number, at - timedelta(hours=window_hours), exclude=call_id
    )
    return CallerCard(
        caller_number=number,
        call_id=call_id,
        customers=[
            CustomerRead(
                customer_id=c.customer_id,
                name=c.name,
                address=c.address,
                area_code=c.area_code,
                meter_no=c.meter_no,
                sensitive=c.sensitive,
            )
            for c in known
        ],
        open_tickets=[summary(t) for t in open_tickets],
        recent_tickets=[summary(t) for t in recent],
        active_outages=[
            OutageRead(
                incident_id=o.incident_id,
                area_codes=list(o.area_codes),
                expected_restore_at=o.expected_restore_at,
                cause=o.cause,
            )
            for o in outages
        ],
        planned_outages=[
            PlannedOutageNotice(
                planned_outage_id=o.id,
                area_codes=list(o.area_codes),
                starts_at=o.starts_at,
                ends_at=o.ends_at,
                announced_at=o.announced_at,
                reason=o.reason,
                in_effect=o.starts_at <= at,
            )
            for o in planned
        ],
        flags=CallerFlags(
            repeat_caller=earlier_calls > 0 or bool(open_tickets),
            sensitive_customer=any(c.sensitive for c in known),
            harassing_number=bool(flag is not None and flag.harassing),
        ),
    )


@customers.get("", response_model=list[CustomerFound])
async def search_customers(
    uow: UnitOfWorkDep,
    agent: Desk,
    q: Annotated[
        str,
        Query(max_length=100, description="Account number, or part of a name or address"),
        # Counted after trimming: spaces alone searched for "" and listed the whole directory.
        StringConstraints(strip_whitespace=True, min_length=2),
    ],
    limit: int = Query(20, ge=1, le=50),
) -> list[CustomerFound]:
    """Find the customer of an unknown caller by account number, name or address."""
    async with uow:
        directory = DirectoryRepository(uow.session)
        found = await directory.search(q, limit)
        phones = await directory.phones_of([c.customer_id for c in found])
    return [
        CustomerFound(
            customer_id=c.customer_id,
            name=c.name,
            address=c.address,
            area_code=c.area_code,
            meter_no=c.meter_no,
            sensitive=c.sensitive,
            phones=phones.get(c.customer_id, []),
        )
        for c in found
    ]


@customers.get("/{customer_id}/caller-card", response_model=CallerCard)
async def caller_card_of_customer(
    customer_id: str,
    request: Request,
    uow: UnitOfWorkDep,
    agent: Desk,
    call_id: str | None = None,
) -> CallerCard:
    """The caller card with the call linked to this customer: their tickets, the outages over
    their area, the flags of the number calling."""
    async with uow:
        customer = await DirectoryRepository(uow.session).get(customer_id)
        if customer is None:
            raise Problem(
                404,
                "not-found",
                "No such customer",
                f"customer {customer_id} is not in the directory",
                errors=[{"field": "customer_id", "message": "unknown"}],
            )
        call = await CallRepository(uow.session).get(call_id) if call_id else None
        number = call.caller_number if call is not None and call.caller_number else ""
        return await build_card(
            uow,
            number,
            call_id,
            request.app.state.settings.repeat_call_window_hours,
            known=[customer],
        )


@cards.get("/calls/{call_id}/caller-card", response_model=CallerCard)
async def caller_card_for_call(
    call_id: str, request: Request, uow: UnitOfWorkDep, agent: Desk
) -> CallerCard:
    """Who is calling: known customers, open and recent tickets, outages over their area, flags."""
    async with uow:
        call = await CallRepository(uow.session).get(call_id)
        if call is None or not call.caller_number:
            raise Problem(
                404,
                "not-found",
                "No such call",
                f"call {call_id} is unknown or has no caller number",
            )
        return await build_card(
            uow, call.caller_number, call_id, request.app.state.settings.repeat_call_window_hours
        )


@cards.get("/caller-cards/{number}", response_model=CallerCard)
async def caller_card(number: str, request: Request, uow: UnitOfWorkDep, agent: Desk) -> CallerCard:
    async with uow:
        return await build_card(
            uow, number, None, request.app.state.settings.repeat_call_window_hours
        )


routers = [customers, cards]
