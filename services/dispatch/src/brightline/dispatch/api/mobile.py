"""The crews' phone API.

Every write carries an Idempotency-Key and the device's own clock (X-Device-Time header or
`device_time` in the body): a phone that was offline replays its queue, a replay has no second
effect, and the times recorded are when things happened, not when the network came back.
A crew member sees and moves only their own crew's orders; anything else is a 404.

Crew members sign in on the phone with the identity provider (Keycloak's public client
`brightline-crew`; its brute-force detection locks out PIN guessing): the token names the
member, the realm role `crew` and the member's crew_id and unit_id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime, timedelta
from typing import Annotated, Any

import filetype
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from brightline.dispatch import handlers
from brightline.dispatch.adapters.repository import CrewRepository, WorkOrderRepository
from brightline.dispatch.api.schemas import (
    CancelStep,
    MobileOrderPage,
    MobileOrderRead,
    MobilePosition,
    MobileStep,
    OnSiteStep,
    PhotoRead,
    ResolveStep,
)
from brightline.dispatch.domain import commands
from brightline.dispatch.domain.model import (
    TRANSITIONS,
    IllegalTransition,
    StatusFilter,
    StepTimeRejected,
    WorkOrder,
)
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging import MessageBus, UnitOfWorkDep
from brightline.messaging.http import IdempotencyKey, IdempotentCommand
from brightline.platform import clock
from brightline.platform.auth import Crew, Principal
from brightline.platform.problems import Problem
from brightline.platform.validation import PageOffset

router = APIRouter(prefix="/mobile", tags=["mobile"])

DeviceTime = Annotated[str | None, Header(alias="X-Device-Time")]


def _crew_of(member: Principal) -> str:
    if not member.crew_id:
        raise Problem(
            403,
            "no-crew",
            "The token names no crew",
            "the identity provider holds no crew_id for this member",
        )
    return member.crew_id


def _not_found(order_id: str) -> Problem:
    # The same answer whether the order does not exist or belongs to another crew: no data leaks.
    return Problem(
        404, "not-found", "No such work order", f"your crew has no work order {order_id}"
    )


def mask_name(name: str | None) -> str | None:
    """张三丰 -> 张**: enough to greet, not enough to identify."""
    return name[0] + "*" * (len(name) - 1) if name else name


def mask_phone(phone: str | None) -> str | None:
    """13812345678 -> 138****5678; a shorter number (a landline without its area code,
    8765432) keeps only its last two (3 + 4 shown of a 7-digit number was the whole number)."""
    if not phone:
        return phone
    shown_head, shown_tail = (3, 4) if len(phone) >= 11 else (0, 2 if len(phone) >= 6 else 0)
    hidden = len(phone) - shown_head - shown_tail
    return phone[:shown_head] + "*" * hidden + phone[len(phone) - shown_tail :]


# The customer's name and phone are the crew's while it has the order in hand: from accepting
# it (offered only, they stay masked) until its return has passed review (sent back, the crew
# may need to call again). Finished or cancelled, the order stays in the crew's history masked.
IN_HAND = ("accepted", "en_route", "on_site", "resolved")


def customer_shown(order: WorkOrder) -> bool:
    return order.status in IN_HAND or order.awaiting_review


async def _mobile_read(repo: WorkOrderRepository, order: WorkOrder) -> MobileOrderRead:
    shown = customer_shown(order)
    photos = [
        PhotoRead.model_validate(p, from_attributes=True) for p in await repo.attachments(order.id)
    ]
    return MobileOrderRead(
        id=order.id,
        ticket_id=order.ticket_id,
        status=order.status,
        allowed_next=list(TRANSITIONS[order.status]),
        area_class=order.area_class,
        address=order.address,
        description=order.description,
        latitude=order.latitude,
        longitude=order.longitude,
        accept_by=order.accept_by,
        incident_id=order.incident_id,
        created_at=order.created_at,
        updated_at=order.updated_at,
        resolution=order.resolution,
        cause=order.cause,
        photos=photos,
        ticket_no=order.ticket_no,
        customer_name=order.caller_name if shown else mask_name(order.caller_name),
        customer_phone=order.phone if shown else mask_phone(order.phone),
        arrive_by=order.arrive_by,
        notes=order.notes,
        cancel_reason=order.cancel_reason,
        awaiting_review=order.awaiting_review,
        sent_back_reason=order.sent_back_reason,
        cancel_requested=order.cancel_requested,
        cancel_refused_reason=order.cancel_refused_reason,
    )


def _etag(body: Any) -> str:
    return '"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32] + '"'


def _cached(body: Any, if_none_match: str | None) -> Response:
    etag = _etag(body)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if if_none_match and etag in {t.strip().removeprefix("W/") for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return JSONResponse(body, headers=headers)


@router.get(
    "/orders", response_model=MobileOrderPage, responses={304: {"description": "Not modified"}}
)
async def my_orders(
    uow: UnitOfWorkDep,
    member: Crew,
    status: Annotated[
        StatusFilter | None,
        Query(
            description="One status, or `open`: what the crew still has to do, most urgent first"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: PageOffset = 0,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """My crew's orders, newest first (the open ones by arrival limit), paginated; send the ETag
    back in If-None-Match to get 304."""
    crew_id = _crew_of(member)
    async with uow:
        repo = WorkOrderRepository(uow.session)
        orders = await repo.search(crew_id=crew_id, status=status, limit=limit, offset=offset)
        total = await repo.count_for_crew(crew_id, status)
        items = [await _mobile_read(repo, o) for o in orders]
    page = MobileOrderPage(items=items, total=total, limit=limit, offset=offset)
    return _cached(page.model_dump(mode="json"), if_none_match)


@router.get("/orders/{work_order_id}", response_model=MobileOrderRead)
async def my_order(
    work_order_id: str,
    uow: UnitOfWorkDep,
    member: Crew,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    crew_id = _crew_of(member)
    async with uow:
        repo = WorkOrderRepository(uow.session)
        order = await repo.get(work_order_id)
        if order is None or order.crew_id != crew_id:
            raise _not_found(work_order_id)
        body = (await _mobile_read(repo, order)).model_dump(mode="json")
    return _cached(body, if_none_match)


@router.get("/orders/{work_order_id}/photos/{photo_id}", response_class=Response)
async def my_photo(work_order_id: str, photo_id: str, uow: UnitOfWorkDep, member: Crew) -> Response:
    crew_id = _crew_of(member)
    async with uow:
        repo = WorkOrderRepository(uow.session)
        order = await repo.get(work_order_id)
        photo = (
            await repo.attachment(work_order_id, photo_id)
            if order and order.crew_id == crew_id
            else None
        )
    if photo is None:
        raise _not_found(work_order_id)
    return Response(photo.data, media_type=photo.content_type)


def _device_time(body: MobileStep, header: str | None, settings: DispatchSettings) -> datetime:
    value = body.device_time
    if value is None and header:
        try:
            value = datetime.fromisoformat(header)
        except ValueError as error:
            raise Problem(
                422,
                "bad-device-time",
                "X-Device-Time is not an ISO 8601 time",
                "send e.g. 2026-11-21T10:00:00+08:00",
            ) from error
        if value.tzinfo is None:
            raise Problem(
                422,
                "bad-device-time",
                "X-Device-Time needs a UTC offset",
                "send e.g. 2026-11-21T10:00:00+08:00",
            )
    if value is None:
        raise Problem(
            422,
            "device-time-required",
            "The device's time is required",
            "send X-Device-Time or device_time: when the step happened on the phone",
            errors=[{"field": "device_time", "message": "required"}],
        )
    if value > clock.now() + timedelta(seconds=settings.device_clock_skew_seconds):
        raise Problem(
            422,
            "device-time-in-future",
            "The device's time is in the future",
            "check the phone's clock",
            errors=[{"field": "device_time", "message": "in the future"}],
        )
    window = settings.device_offline_window_seconds
    if value < clock.now() - timedelta(seconds=window):
        # A phone reset to its epoch, or a fix queued for longer than any shift: no position
        # or step of today (a fix dated 2000 was taken as the crew's last known place).
        raise Problem(
            422,
            "bad-device-time",
            "The device's time is too old",
            f"older than the offline window of {window:.0f} s: check the phone's clock",
            errors=[{"field": "device_time", "message": "older than the offline window"}],
        )
    return value


def _require_key(key: str | None) -> str:
    if not key:
        raise Problem(
            428,
            "idempotency-key-required",
            "Idempotency-Key is required",
            "every mobile write carries a key so an offline queue can be replayed safely",
        )
    return key


def _photos(body: ResolveStep, settings: DispatchSettings) -> tuple[tuple[str, str, bytes], ...]:
    """The photos as (filename, content type, bytes), each what it says it is: the reviewer reads
    them as the evidence of the repair (HTML sent as image/jpeg was kept and served as a photo)."""
    if len(body.photos) > settings.max_photos_per_request:
        raise Problem(
            422,
            "too-many-photos",
            "Too many photos",
            f"at most {settings.max_photos_per_request} photos per request",
            errors=[{"field": "photos", "message": "too many"}],
        )
    decoded = []
    for i, photo in enumerate(body.photos):
        field = f"photos.{i}.data_base64"
        try:
            data = base64.b64decode(photo.data_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise Problem(
                422,
                "bad-photo",
                "A photo is not valid base64",
                f"photos[{i}]",
                errors=[{"field": field, "message": "not base64"}],
            ) from error
        if not data:
            raise Problem(
                422,
                "bad-photo",
                "A photo is empty",
                f"photos[{i}]",
                errors=[{"field": field, "message": "empty"}],
            )
        if len(data) > settings.max_photo_bytes:
            raise Problem(
                413,
                "photo-too-large",
                "A photo is too large",
                f"photos[{i}] has {len(data)} bytes; the limit is {settings.max_photo_bytes}",
                errors=[{"field": field, "message": f"over {settings.max_photo_bytes} bytes"}],
            )
        found = filetype.guess_mime(data)
        if found != photo.content_type:
            raise Problem(
                422,
                "bad-photo",
                "A photo is not the image it says it is",
                f"photos[{i}] is sent as {photo.content_type} but holds {found or 'no image'}",
                errors=[{"field": field, "message": f"not {photo.content_type}"}],
            )
        decoded.append((photo.filename, photo.content_type, data))
    return tuple(decoded)


async def _step(
    action: str,
    work_order_id: str,
    body: MobileStep,
    member: Principal,
    request: Request,
    uow,
    key: str | None,
    header_time: str | None,
    **details: Any,
) -> JSONResponse:
    settings: DispatchSettings = request.app.state.settings
    bus: MessageBus = request.app.state.bus
    key = _require_key(key)
    crew_id = _crew_of(member)
    at = _device_time(body, header_time, settings)
    photos = _photos(body, settings) if isinstance(body, ResolveStep) else ()
    fingerprint = {
        **body.model_dump(mode="json", exclude={"device_time"}),
        "device_time": at.isoformat(),
    }
    async with (
        uow,
        IdempotentCommand(
            uow, f"mobile:{crew_id}:{work_order_id}:{action}", key, fingerprint
        ) as once,
    ):
        if once.response is not None:  # replayed
            return once.response
        try:
            order = await bus.handle(
                commands.CrewTransition(
                    work_order_id=work_order_id,
                    crew_id=crew_id,
                    member_id=member.subject,
                    action=action,
                    device_time=at,
                    photos=photos,
                    **details,
                ),
                uow,
            )
        except handlers.NotFound as error:
            raise _not_found(work_order_id) from error
        except StepTimeRejected as error:
            raise Problem(
                422,
                "bad-device-time",
                "The step's time cannot be true",
                str(error),
                errors=[{"field": error.field, "message": str(error)}],
            ) from error
        except IllegalTransition as error:
            raise Problem(
                409,
                "illegal-transition",
                "This step is not allowed now",
                str(error),
                status_now=error.current,
                allowed=error.allowed,
            ) from error
        result = await _mobile_read(WorkOrderRepository(uow.session), order)
        return await once.respond(200, result.model_dump(mode="json"))


@router.post("/orders/{work_order_id}/accept", response_model=MobileOrderRead)
async def accept(
    work_order_id: str,
    request: Request,
    uow: UnitOfWorkDep,
    member: Crew,
    body: MobileStep | None = None,
    idempotency_key: IdempotencyKey = None,
    x_device_time: DeviceTime = None,
):
    """接单: the crew takes the order offered to it."""
    return await _step(
        "accept",
        work_order_id,
        body or MobileStep(),
        member,
        request,
        uow,
        idempotency_key,
        x_device_time,
    )


@router.post("/orders/{work_order_id}/en-route", response_model=MobileOrderRead)
async def en_route(
    work_order_id: str,
    request: Request,
    uow: UnitOfWorkDep,
    member: Crew,
    body: MobileStep | None = None,
    idempotency_key: IdempotencyKey = None,
    x_device_time: DeviceTime = None,
):
    return await _step(
        "en_route",
        work_order_id,
        body or MobileStep(),
        member,
        request,
        uow,
        idempotency_key,
        x_device_time,
    )


@router.post("/orders/{work_order_id}/on-site", response_model=MobileOrderRead)
async def on_site(
    work_order_id: str,
    body: OnSiteStep,
    request: Request,
    uow: UnitOfWorkDep,
    member: Crew,
    idempotency_key: IdempotencyKey = None,
    x_device_time: DeviceTime = None,
):
    """到达现场, with where the phone was (the arrival deadline stops here)."""
    return await _step(
        "on_site",
        work_order_id,
        body,
        member,
        request,
        uow,
        idempotency_key,
        x_device_time,
        latitude=body.latitude,
        longitude=body.longitude,
    )


@router.post("/orders/{work_order_id}/resolution", response_model=MobileOrderRead)
async def resolve(
    work_order_id: str,
    body: ResolveStep,
    request: Request,
    uow: UnitOfWorkDep,
    member: Crew,
    idempotency_key: IdempotencyKey = None,
    x_device_time: DeviceTime = None,
):
    """Fault dealt with: cause, notes, photos (base64). A fault inside the customer's own
    installation closes as a paid-service referral."""
    return await _step(
        "resolve",
        work_order_id,
        body,
        member,
        request,
        uow,
        idempotency_key,
        x_device_time,
        cause=body.cause,
        notes=body.notes,
        customer_installation=body.customer_installation,
    )


@router.post("/orders/{work_order_id}/return", response_model=MobileOrderRead)
async def return_order(
    work_order_id: str,
    request: Request,
    uow: UnitOfWorkDep,
    member: Crew,
    body: MobileStep | None = None,
    idempotency_key: IdempotencyKey = None,
    x_device_time: DeviceTime = None,
):
    """回单: hand the finished order back. The duty dispatcher reviews it (审核): passed, the
    ticket closes and goes on to callback; sent back, the order is on site again with the
    reason (`sent_back_reason`)."""
    return await _step(
        "return",
        work_order_id,
        body or MobileStep(),
        member,
        request,
        uow,
        idempotency_key,
        x_device_time,
    )


@router.post("/orders/{work_order_id}/cancellation", response_model=MobileOrderRead)
async def cancel_order(
    work_order_id: str,
    body: CancelStep,
    request: Request,
    uow: UnitOfWorkDep,
    member: Crew,
    idempotency_key: IdempotencyKey = None,
    x_device_time: DeviceTime = None,
):
    """申请撤单: not needed after all (power back before arrival, a duplicate, no fault found),
    with the reason. The duty dispatcher decides: cancels the order (the arrival clock closes,
    the customer is called back and told the reason) or refuses with why (`cancel_refused_reason`).
    Until then the order is the crew's, with `cancel_requested`; going on with it withdraws the
    request."""
    return await _step(
        "cancel",
        work_order_id,
        body,
        member,
        request,
        uow,
        idempotency_key,
        x_device_time,
        reason=body.reason,
    )


@router.post("/position", status_code=204, response_class=Response)
async def report_position(
    body: MobilePosition,
    request: Request,
    uow: UnitOfWorkDep,
    member: Crew,
    idempotency_key: IdempotencyKey = None,
    x_device_time: DeviceTime = None,
) -> Response:
    """The crew's last known position (used to pick the nearest crew). A replayed, older fix
    never overwrites a newer one."""
    settings: DispatchSettings = request.app.state.settings
    _require_key(idempotency_key)
    crew_id = _crew_of(member)
    at = _device_time(body, x_device_time, settings)
    async with uow:
        if not await CrewRepository(uow.session).record_position(
            crew_id, body.latitude, body.longitude, at
        ):
            raise Problem(404, "not-found", "No such crew", f"crew {crew_id} does not exist")
        await uow.commit()
    return Response(status_code=204)


routers = [router]
