"""The dispatcher board: crews, orders and incidents with positions, each incident's topology
graph, the needs-routing queue, the crews' returns waiting for review (回单审核) with the site
photos the crews took, the crews' requests to cancel (申请撤单), and the dispatcher's acts handed
over to dispatch."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from brightline.console.api.deps import SupervisorCaller, UpstreamDep
from brightline.console.api.routes import _ok, _problem, seconds_until
from brightline.console.domain.topology import incident_graph
from brightline.platform import clock
from brightline.platform.validation import Said

router = APIRouter(prefix="/api/supervisor/dispatch", tags=["dispatch"])
# Enough for a storm's worst hour on one screen; the most urgent come first, so what does not fit
# is what can wait longest.
OPEN_ORDERS_SHOWN = 500
# The returns waiting for review (and the requests to cancel), the longest waiting first: what
# does not fit waited least.
RETURNS_SHOWN = 200
# What a site photo may be served as from the console's origin: the crews' phones send these
# (dispatch takes no other); anything else goes out as bytes no browser renders or runs.
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
# A photo of a customer's premises is kept by no cache, the reviewer's browser's neither: the
# board runs on shared workstations, and a photo is read again only when a dialog opens.
PHOTO_CACHE = "no-store"


class Reason(BaseModel):
    reason: Said = Field(max_length=500)


class Routing(Reason):
    unit_id: str = Field(min_length=1, max_length=64)
    area_class: Literal["urban", "rural", "remote"]


class Reassignment(Reason):
    crew_id: str = Field(min_length=1, max_length=64)


class Restoration(BaseModel):
    cause: str | None = Field(None, max_length=500)


class SitePhoto(BaseModel):
    """A photo of the site the crew uploaded with its resolution; its bytes are at
    `/api/supervisor/dispatch/work-orders/{work_order_id}/photos/{id}`."""

    id: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


class ReturnApproval(BaseModel):
    """审核通过: the crew's return holds; a note for the record if the dispatcher has one."""

    note: str | None = Field(None, max_length=500)


def seconds_since(at: str | None, now: datetime) -> float | None:
    """How long a return has waited, on the server's clock: the browser counts up from it."""
    waited = seconds_until(at, now)
    return None if waited is None else -waited


@router.get("/board")
async def dispatch_board(caller: SupervisorCaller, upstream: UpstreamDep) -> dict[str, Any]:
    """Crews (duty, position), the open orders most urgent first (each with the acts its state
    allows), active incidents each with its topology graph, the orders waiting to be routed by
    hand and the units they can go to, and the crews' returns waiting for review (回单审核) and
    requests to cancel (申请撤单), the longest waiting first, each with how long it has waited. A part dispatch cannot give is
    empty, with why."""
    fetched: list[list[dict[str, Any]] | BaseException] = await asyncio.gather(
        upstream.crews(caller.token),
        upstream.work_orders(caller.token, status="open", limit=OPEN_ORDERS_SHOWN),
        upstream.outages(caller.token),
        upstream.needs_routing(caller.token),
        upstream.units(caller.token),
        upstream.work_orders(caller.token, status="awaiting_review", limit=RETURNS_SHOWN),
        upstream.work_orders(caller.token, status="cancel_requested", limit=RETURNS_SHOWN),
        return_exceptions=True,
    )
    crews, orders, incidents, queue, units, returns, cancel_requests = fetched
    now = clock.now()
    order_list = [
        {**o, "arrival_seconds_left": seconds_until(o.get("arrive_by"), now)}
        for o in _ok(orders) or []
    ]
    active = [i for i in (_ok(incidents) or []) if i.get("status") not in ("restored", "cancelled")]
    return {
        "crews": _ok(crews) or [],
        "orders": order_list,
        "incidents": [{**i, "graph": incident_graph(i, order_list)} for i in active],
        "needs_routing": _ok(queue) or [],
        "units": _ok(units) or [],
        "awaiting_review": [
            {**o, "waiting_seconds": seconds_since(o.get("returned_at"), now)}
            for o in _ok(returns) or []
        ],
        "cancel_requests": [
            {**o, "waiting_seconds": seconds_since(o.get("cancel_requested_at"), now)}
            for o in _ok(cancel_requests) or []
        ],
        "problems": [_problem(x) for x in fetched if isinstance(x, Exception)],
    }


@router.put("/work-orders/{work_order_id}/routing")
async def route_by_hand(
    work_order_id: str, body: Routing, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.dispatch_write(
        caller.token, "PUT", f"/work-orders/{work_order_id}/routing", body.model_dump()
    )


@router.put("/work-orders/{work_order_id}/assignment")
async def reassign_crew(
    work_order_id: str, body: Reassignment, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.dispatch_write(
        caller.token, "PUT", f"/work-orders/{work_order_id}/assignment", body.model_dump()
    )


@router.post("/work-orders/{work_order_id}/cancellation")
async def cancel_order(
    work_order_id: str, body: Reason, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.dispatch_write(
        caller.token, "POST", f"/work-orders/{work_order_id}/cancellation", body.model_dump()
    )


@router.post("/work-orders/{work_order_id}/cancellation-refusal")
async def refuse_cancellation(
    work_order_id: str, body: Reason, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    """The crew's request to cancel does not hold: the order stays the crew's, told why."""
    return await upstream.dispatch_write(
        caller.token,
        "POST",
        f"/work-orders/{work_order_id}/cancellation-refusal",
        body.model_dump(),
    )


@router.post("/incidents/{incident_id}/restoration")
async def restore_incident(
    incident_id: str, body: Restoration, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    return await upstream.dispatch_write(
        caller.token, "POST", f"/outages/{incident_id}/restoration", body.model_dump()
    )


@router.post("/work-orders/{work_order_id}/return-approval")
async def approve_return(
    work_order_id: str,
    caller: SupervisorCaller,
    upstream: UpstreamDep,
    body: ReturnApproval | None = None,
) -> dict:
    """审核通过: the ticket closes and goes to callback (dispatch decides)."""
    return await upstream.dispatch_write(
        caller.token,
        "POST",
        f"/work-orders/{work_order_id}/return-approval",
        (body or ReturnApproval()).model_dump(),
    )


@router.post("/work-orders/{work_order_id}/return-send-back")
async def send_back_return(
    work_order_id: str, body: Reason, caller: SupervisorCaller, upstream: UpstreamDep
) -> dict:
    """回单退回: the order goes back to its crew on site with the reason, to be resolved and
    returned again (dispatch decides)."""
    return await upstream.dispatch_write(
        caller.token, "POST", f"/work-orders/{work_order_id}/return-send-back", body.model_dump()
    )


@router.get("/work-orders/{work_order_id}/photos", response_model=list[SitePhoto])
async def site_photos(
    work_order_id: str, caller: SupervisorCaller, upstream: UpstreamDep
) -> list[SitePhoto]:
    """现场照片: what the crew photographed on site, oldest first, for the dispatcher checking
    its return (回单审核)."""
    photos = await upstream.work_order_photos(caller.token, work_order_id)
    return [SitePhoto.model_validate(p) for p in photos]


@router.get(
    "/work-orders/{work_order_id}/photos/{photo_id}",
    response_class=Response,
    responses={
        200: {
            "description": "The photo's bytes as the crew uploaded them",
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def site_photo(
    work_order_id: str, photo_id: str, caller: SupervisorCaller, upstream: UpstreamDep
) -> Response:
    """One site photo, for an <img> on the board (the session cookie signs the request)."""
    data, content_type = await upstream.work_order_photo(caller.token, work_order_id, photo_id)
    media_type = content_type.split(";", 1)[0].strip().lower()
    return Response(
        data,
        media_type=media_type if media_type in PHOTO_TYPES else "application/octet-stream",
        headers={"Cache-Control": PHOTO_CACHE, "X-Content-Type-Options": "nosniff"},
    )
