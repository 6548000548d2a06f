"""Repair work orders, crews and outage incidents. Pure: no I/O."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from brightline.contracts.events.common import AreaClass
from brightline.contracts.events.dispatch import (
    Resolution,
    WorkOrderStatus,
)
from brightline.dispatch.domain import events

# The crew's path through an order. A supervisor or the acceptance timeout may move an order
# between crews while it is "assigned"; restoring an outage finishes an order from any open state.
# An order that turns out not to be needed is cancelled, with a reason, until the fault is dealt with.
TRANSITIONS: dict[WorkOrderStatus, tuple[WorkOrderStatus, ...]] = {
    "created": ("assigned", "cancelled"),
    "assigned": ("accepted", "cancelled"),
    "accepted": ("en_route", "cancelled"),
    "en_route": ("on_site", "cancelled"),
    "on_site": ("resolved", "cancelled"),
    "resolved": ("returned",),
    "returned": (),
    "cancelled": (),
}
OPEN_STATUSES: tuple[WorkOrderStatus, ...] = (
    "created",
    "assigned",
    "accepted",
    "en_route",
    "on_site",
    "resolved",
)
ACTIVE_FOR_CREW: tuple[WorkOrderStatus, ...] = (
    "assigned",
    "accepted",
    "en_route",
    "on_site",
    "resolved",
)
# Steps a crew takes on its phone, timed by the phone's clock.
CREW_STEPS: tuple[WorkOrderStatus, ...] = (
    "accepted",
    "en_route",
    "on_site",
    "resolved",
    "returned",
)


def is_crew_step(status: str, previous_status: str) -> bool:
    """Whether a history row is a step the crew took on its phone (timed by the phone's clock),
    not one of ours: a move back on site from `returned` is the dispatcher's send-back, and a
    row that moves nothing is a note (a review, a refused cancellation)."""
    return status in CREW_STEPS and previous_status not in ("returned", status)


# What the duty dispatcher may do with an order from the board; the board offers only these.
DispatcherAct = Literal["route", "reassign", "cancel"]
# What a list of orders may be filtered by: one status, every open one (the board's), the
# returns waiting for review (the dispatcher's 回单审核 queue), or the crews' requests to cancel
# waiting for the dispatcher's word (申请撤单).
StatusFilter = Literal[WorkOrderStatus, "open", "awaiting_review", "cancel_requested"]

RESOLUTION_REPAIRED: Resolution = "repaired"
RESOLUTION_PAID_SERVICE: Resolution = "paid_service_referral"
RESOLUTION_OUTAGE: Resolution = "restored_with_outage"
# Where an order waits when no service area maps its address: the duty dispatcher routes it.
NEEDS_ROUTING_UNIT = "needs-routing"


class IllegalTransition(Exception):
    def __init__(self, current: WorkOrderStatus, wanted: str, why: str | None = None) -> None:
        self.current = current
        self.wanted = wanted
        self.allowed = list(TRANSITIONS.get(current, ()))
        super().__init__(
            why
            or f"cannot go from {current} to {wanted}; allowed next: {', '.join(self.allowed) or 'none'}"
        )


@dataclass
class WorkOrder:
    id: str
    ticket_id: str
    unit_id: str
    area_class: AreaClass
    created_at: datetime
    status: WorkOrderStatus = "created"
    crew_id: str | None = None
    incident_id: str | None = None
    is_lead: bool = True
    latitude: float | None = None
    longitude: float | None = None
    meter_no: str | None = None
    accept_by: datetime | None = None
    updated_at: datetime | None = None
    cause: str | None = None
    notes: str | None = None
    resolution: Resolution | None = None
    returned_at: datetime | None = None
    address: str | None = None
    description: str | None = None
    reported_at: datetime | None = None
    reopened_from: str | None = None
    needs_routing: bool = False
    cancel_reason: str | None = None
    ticket_no: str | None = None
    caller_name: str | None = None
    phone: str | None = None
    area_code: str | None = None
    fault_scope: str | None = None
    # When the power went off, as the caller said: the crew and the outage log need it.
    fault_started_at: datetime | None = None
    arrive_by: datetime | None = None
    # 审核: when and by whom the crew's return passed review (None while it waits for one).
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    # why the return was last sent back (回单退回)
    sent_back_reason: str | None = None
    # 申请撤单: a crew's request to cancel, waiting for the duty dispatcher (its reason is the
    # cancel_reason the order would close with); None when none waits.
    cancel_requested_at: datetime | None = None
    cancel_requested_by: str | None = None
    # why the dispatcher refused the crew's last request to cancel (until it asks again): its
    # own field, so neither the crew's phone nor the return review reads it as a return sent back
    cancel_refused_reason: str | None = None
    events: list[events.DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        id: str,
        ticket_id: str,
        unit_id: str,
        area_class: AreaClass,
        created_at: datetime,
        latitude: float | None = None,
        longitude: float | None = None,
        meter_no: str | None = None,
        address: str | None = None,
        description: str | None = None,
        **details: Any,
    ) -> WorkOrder:
        order = cls(
            id=id,
            ticket_id=ticket_id,
            unit_id=unit_id,
            area_class=area_class,
            created_at=created_at,
            latitude=latitude,
            longitude=longitude,
            meter_no=meter_no,
            updated_at=created_at,
            address=address,
            description=description,
            **details,
        )
        order.events.append(events.WorkOrderCreated(order))
        return order

    def _move(
        self,
        to: WorkOrderStatus,
        at: datetime,
        *,
        actor: str | None,
        reason: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> None:
        previous = self.status
        self.status = to
        self.updated_at = at
        if self.cancel_requested_at is not None and to != "assigned":
            # A move answers a waiting request to cancel: the cancellation itself, or the crew
            # going on with the work after all. Offering the order to another crew (the offer
            # timed out, or the dispatcher moved it) answers nothing: the request still waits
            # for the dispatcher, who alone decides it (it vanished from their queue unanswered).
            if to != "cancelled":
                self.cancel_reason = None
            self.cancel_requested_at = self.cancel_requested_by = None
        self.events.append(
            events.StatusChanged(
                order=self,
                status=to,
                previous_status=previous,
                at=at,
                actor=actor,
                crew_id=self.crew_id,
                reason=reason,
                latitude=latitude,
                longitude=longitude,
            )
        )

    @property
    def dispatcher_acts(self) -> tuple[DispatcherAct, ...]:
        """The acts the order's state still allows: routing while no unit has it, another crew
        until one accepts (an incident's followers go with its lead's crew), cancelling until
        the crew has dealt with the fault."""
        acts: list[DispatcherAct] = []
        if self.needs_routing and self.status == "created":
            acts.append("route")
        elif self.is_lead and self.status in ("created", "assigned"):
            acts.append("reassign")
        if "cancelled" in TRANSITIONS.get(self.status, ()):
            acts.append("cancel")
        return tuple(acts)

    def _require(self, to: str) -> None:
        if to not in TRANSITIONS.get(self.status, ()):
            raise IllegalTransition(self.status, to)

    def assign(
        self, crew_id: str, at: datetime, accept_by: datetime, *, actor: str, reason: str
    ) -> None:
        """Offer the order to a crew. Re-offering an assigned order to another crew is a reassignment."""
        if self.needs_routing:
            # Its unit is not known yet: a crew picked now would leave it in the routing queue.
            raise IllegalTransition(self.status, "assigned", "route the order to a unit first")
        if not self.is_lead:
            raise IllegalTransition(
                self.status, "assigned", "the order goes with its incident's lead crew"
            )
        if self.status != "assigned":
            self._require("assigned")
        self.crew_id = crew_id
        self.accept_by = accept_by
        self._move("assigned", at, actor=actor, reason=reason)

    def link_to(self, incident_id: str, *, lead: bool) -> None:
        self.incident_id = incident_id
        self.is_lead = lead

    def route_to(self, area: ServiceArea) -> None:
        self.unit_id = area.unit_id
        self.area_class = area.area_class
        self.needs_routing = False

    def cancel(self, at: datetime, actor: str, reason: str) -> None:
        """Not needed after all (a duplicate, the customer's power came back, no fault found):
        audited with its reason; the arrival clock closes with it. Only the duty dispatcher
        cancels; a crew asks (request_cancel)."""
        self._require("cancelled")
        self.cancel_reason = reason
        self.accept_by = None
        self._move("cancelled", at, actor=actor, reason=reason)

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_at is not None and self.status in OPEN_STATUSES

    def request_cancel(self, at: datetime, actor: str, reason: str) -> None:
        """申请撤单: the crew finds the order not needed and says why. Nothing closes: the
        customer's arrival clock runs on until the duty dispatcher cancels the order or
        refuses, since a crew that walks away from a live fault leaves the customer dark."""
        self._require("cancelled")
        if self.cancel_requested:
            # A second request would rewrite the first's reason and move it to the back of the
            # dispatcher's queue (oldest first); the same request retried replays its key.
            raise IllegalTransition(
                self.status,
                "cancel-requested",
                f"a request to cancel waits since {self.cancel_requested_at:%Y-%m-%d %H:%M:%S}",
            )
        self.cancel_reason = reason
        self.cancel_requested_at, self.cancel_requested_by = at, actor
        self.cancel_refused_reason = None
        self.updated_at = at

    def refuse_cancel(self, at: datetime, reason: str) -> None:
        """The dispatcher refuses the crew's request to cancel, with why: the crew goes on."""
        if not self.cancel_requested:
            raise IllegalTransition(self.status, "cancel-refused", "no request to cancel waits")
        self.cancel_reason = None
        self.cancel_requested_at = self.cancel_requested_by = None
        self.cancel_refused_reason = reason
        self.updated_at = at

    def accept(self, at: datetime, actor: str) -> None:
        self._require("accepted")
        self.accept_by = None
        self._move("accepted", at, actor=actor)

    def set_off(self, at: datetime, actor: str) -> None:
        self._require("en_route")
        self._move("en_route", at, actor=actor)

    def arrive(
        self, at: datetime, actor: str, latitude: float | None, longitude: float | None
    ) -> None:
        self._require("on_site")
        self._move("on_site", at, actor=actor, latitude=latitude, longitude=longitude)

    def resolve(
        self,
        at: datetime,
        actor: str,
        *,
        cause: str,
        notes: str | None,
        customer_installation: bool,
    ) -> None:
        """Fault found and dealt with. A fault inside the customer's own installation is not
        the utility's to repair: the order closes as a referral to paid service (有偿服务)."""
        self._require("resolved")
        self.cause = cause
        self.notes = notes
        self.resolution = RESOLUTION_PAID_SERVICE if customer_installation else RESOLUTION_REPAIRED
        self._move("resolved", at, actor=actor, reason=self.resolution)

    def return_(self, at: datetime, actor: str) -> None:
        """回单: the crew hands the finished order back. It waits for the duty dispatcher's
        review (审核) before the ticket closes and goes on to callback."""
        self._require("returned")
        assert self.resolution is not None, "only a resolved order is returned"
        self.returned_at = at
        self.reviewed_at = self.reviewed_by = None
        self._move("returned", at, actor=actor)

    @property
    def awaiting_review(self) -> bool:
        return self.status == "returned" and self.reviewed_at is None

    def _require_review(self) -> None:
        if not self.awaiting_review:
            raise IllegalTransition(
                self.status,
                "reviewed",
                "only a returned order waiting for review is reviewed"
                if self.status != "returned"
                else "the return was reviewed already",
            )

    def approve_return(self, at: datetime, actor: str) -> None:
        """审核通过: the return says what was found and done; the ticket closes and the
        customer is called back."""
        self._require_review()
        assert self.resolution is not None and self.returned_at is not None
        self.reviewed_at, self.reviewed_by = at, actor
        self.updated_at = at
        self.events.append(events.Returned(self, self.returned_at, self.resolution))

    def send_back_return(self, at: datetime, actor: str, reason: str) -> None:
        """回单退回: the return does not hold (no real cause, the work not done); the order goes
        back to the crew on site, with the reason, to be resolved and returned again."""
        self._require_review()
        self.returned_at = None
        self.sent_back_reason = reason
        self._move("on_site", at, actor=actor, reason=reason)

    def release_from_incident(self, at: datetime) -> None:
        """The incident was cancelled: this order is an ordinary repair of its own again."""
        incident_id, was_lead = self.incident_id, self.is_lead
        self.incident_id = None
        self.is_lead = True
        if not was_lead:
            self.events.append(events.Promoted(self, at, "incident_cancelled", incident_id))

    def lead_incident(self, at: datetime) -> None:
        """The incident's lead turned out to be its own matter: this order leads now."""
        if not self.is_lead:
            self.is_lead = True
            self.events.append(events.Promoted(self, at, "leads_incident", self.incident_id))

    def restore_with_outage(self, at: datetime, actor: str, cause: str | None) -> None:
        """The incident's fault is cleared: finish this order whatever state it was in."""
        if self.status not in OPEN_STATUSES:
            return
        self.resolution = RESOLUTION_OUTAGE
        self.cause = cause or self.cause
        self.accept_by = None
        if self.status != "resolved":
            self._move("resolved", at, actor=actor, reason=RESOLUTION_OUTAGE)
        self.returned_at = at
        self._move("returned", at, actor=actor, reason=RESOLUTION_OUTAGE)
        # Finished by whoever restored the outage, not by a crew's return: nothing to review.
        self.reviewed_at, self.reviewed_by = at, actor
        self.events.append(events.Returned(self, at, self.resolution))


@dataclass(frozen=True)
class ServiceArea:
    """Which repair unit serves an area code, and how far out it is (sets the arrival limit)."""

    area_code: str
    unit_id: str
    area_class: AreaClass


AREA_CLASSES = ("urban", "rural", "remote")


def route(area_code: str | None, areas: dict[str, ServiceArea]) -> ServiceArea | None:
    """The area's repair unit; None when nobody mapped the area (the order needs routing by hand)."""
    return areas.get(area_code or "")


class StepTimeRejected(ValueError):
    """A crew step's device time that cannot be true: 422 naming `device_time`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.field = "device_time"


def check_step_time(
    at: datetime,
    *,
    now: datetime,
    created_at: datetime,
    last_server_step_at: datetime | None,
    last_crew_step_at: datetime | None,
    offline_window_seconds: float,
    skew_seconds: float,
) -> datetime:
    """The time to record for a crew's step timed `at` by the phone. It must not be in the future,
    nor older than the offline window, nor before the order existed or was offered, nor before
    the crew's previous step. Comparisons with our own clock (creation, offer) allow the phone's
    clock skew, and a step inside that allowance is recorded at the offer itself: a phone whose
    clock runs behind ours cannot have accepted an order before we offered it (the board and the
    timeline showed the crew on site before the ticket was recorded). Steps timed by the same
    phone compare strictly."""
    if at > now + timedelta(seconds=skew_seconds):
        raise StepTimeRejected(f"{at.isoformat()} is in the future (server time {now.isoformat()})")
    if at < now - timedelta(seconds=offline_window_seconds):
        raise StepTimeRejected(
            f"{at.isoformat()} is older than the offline window of {offline_window_seconds:.0f} s"
        )
    offered = max(created_at, last_server_step_at or created_at)
    if at < offered - timedelta(seconds=skew_seconds):
        raise StepTimeRejected(
            f"{at.isoformat()} is before the order was created or offered ({offered.isoformat()})"
        )
    recorded = max(at, offered)
    if last_crew_step_at is not None and recorded < last_crew_step_at:
        raise StepTimeRejected(
            f"{at.isoformat()} is before the previous step ({last_crew_step_at.isoformat()})"
        )
    return recorded


# --- crews -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class CrewState:
    """What assignment needs to know about a crew at one moment."""

    crew_id: str
    unit_id: str
    on_duty: bool
    latitude: float | None
    longitude: float | None
    open_orders: int
    shifts: tuple[Shift, ...] = ()

    def available(self, at: datetime) -> bool:
        """On duty, and inside a rostered shift when the crew has a roster at all."""
        if not self.on_duty:
            return False
        return not self.shifts or any(s.covers(at) for s in self.shifts)


EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def with_load(crews: list[CrewState], orders: Iterable[WorkOrder]) -> list[CrewState]:
    """The crews as read, each with the `orders` it works on that the read could not count
    (a consumer batch's new orders, written only at its commit)."""
    more = Counter(o.crew_id for o in orders if o.crew_id and o.status in ACTIVE_FOR_CREW)
    if not more:
        return crews
    return [replace(c, open_orders=c.open_orders + more[c.crew_id]) for c in crews]


def choose_crew(
    crews: list[CrewState],
    *,
    unit_id: str,
    at: datetime,
    latitude: float | None,
    longitude: float | None,
    exclude: frozenset[str] = frozenset(),
) -> CrewState | None:
    """An available crew of the unit: nearest by last position, then least loaded.

    A crew without a known position, or an order without a location, ranks after every
    measured distance; among those, load decides.
    """
    candidates = [
        c for c in crews if c.unit_id == unit_id and c.crew_id not in exclude and c.available(at)
    ]
    if not candidates:
        return None

    def distance(c: CrewState) -> float:
        if latitude is None or longitude is None or c.latitude is None or c.longitude is None:
            return math.inf
        return haversine_m(latitude, longitude, c.latitude, c.longitude)

    return min(candidates, key=lambda c: (distance(c), c.open_orders, c.crew_id))


# --- outage incidents --------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterKey:
    """Where a 'no power' report belongs: a transformer from topology, else a place and time."""

    transformer_id: str | None = None
    feeder_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


SHARED_SCOPES = ("building", "area")
INCIDENT_OPEN = ("suspected", "confirmed", "crew_on_site")
INCIDENT_STATES = (*INCIDENT_OPEN, "restored", "cancelled")


def points_at_shared_equipment(fault_scope: str | None) -> bool:
    """A building, an estate or an area dark: the fault is on shared equipment."""
    return fault_scope in SHARED_SCOPES


def may_join_incident(fault_scope: str | None, transformer_id: str | None) -> bool:
    """Who may fold into an open incident: a shared-equipment report, or a home whose meter
    topology places under the faulty equipment. A home without a located meter never does."""
    return points_at_shared_equipment(fault_scope) or transformer_id is not None


def folds_into_no_incident(fault_scope: str | None, meter_no: str | None) -> bool:
    """Known before anything is read: a report not about shared equipment and with no meter
    for topology to place is an ordinary repair (may_join_incident never lets it in), so it
    leads its own work and gets a crew."""
    return not points_at_shared_equipment(fault_scope) and not meter_no


def several_meters_dark(open_meters: set[str], min_meters: int) -> bool:
    """Homes reporting their own outage form an incident only when several distinct meters
    under one transformer are dark at once: one household's tripped breaker never does."""
    return len(open_meters) >= min_meters


@dataclass(frozen=True)
class OpenIncident:
    id: str
    transformer_id: str | None
    feeder_id: str | None
    latitude: float | None
    longitude: float | None
    radius_m: float | None
    last_report_at: datetime


def matching_incident(
    key: ClusterKey,
    incidents: list[OpenIncident],
    *,
    at: datetime,
    radius_m: float,
    window_seconds: float,
) -> OpenIncident | None:
    """The open incident a report folds into.

    With topology: the incident of the same transformer, else one declared on its whole feeder.
    Without: the nearest incident without topology whose centre is within the radius and which
    had a report within the time window.
    """
    if key.transformer_id:
        for inc in incidents:
            if inc.transformer_id == key.transformer_id:
                return inc
        for inc in incidents:
            if key.feeder_id and inc.transformer_id is None and inc.feeder_id == key.feeder_id:
                return inc
        return None
    if key.latitude is None or key.longitude is None:
        return None
    best: tuple[float, OpenIncident] | None = None
    for inc in incidents:
        if inc.transformer_id or inc.feeder_id or inc.latitude is None or inc.longitude is None:
            continue
        if (at - inc.last_report_at).total_seconds() > window_seconds:
            continue
        d = haversine_m(key.latitude, key.longitude, inc.latitude, inc.longitude)
        if d <= (inc.radius_m or radius_m) and (best is None or d < best[0]):
            best = (d, inc)
    return best[1] if best else None
