"""What one event says about a ticket: timeline entries and changes to the ticket view. Pure.

The projection must end the same whatever order the topics interleave in (a rebuild replays
them in another order than they arrived live), so every change to the view is commutative:
facts of the recording are set only by the recording, the status, owner, unit and department
are "latest wins" by (business time, event id), and "has breached" only ever turns on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from brightline.platform.phones import normalise_phone

# Fields that identify a person: kept out of the timeline (the ticket view keeps the caller's
# name, phone and address for search, and shows them only as the confidentiality rules say).
PERSONAL_FIELDS = frozenset(
    {
        "caller_name",
        "phone",
        "address",
        "customer_id",
        "meter_no",
        "latitude",
        "longitude",
        "reported_party",
        "caller_number",
    }
)


@dataclass(frozen=True)
class Stamp:
    """Orders changes of one field: the later business time wins, the event id breaks ties."""

    at: datetime
    event_id: str


@dataclass(frozen=True)
class Recording:
    """The ticket as intake recorded it (the only event that carries the caller)."""

    ticket_no: str
    ticket_type: str
    recorded_at: datetime
    first_ask_owner: str
    call_id: str | None
    customer_id: str | None
    caller_name: str | None
    phone: str | None
    phone_norm: str | None
    address: str | None
    area_code: str | None
    anonymous: bool
    reported_party: str | None
    reported_party_norm: str | None
    linked_ticket_id: str | None


@dataclass(frozen=True)
class TicketChange:
    ticket_id: str
    stamp: Stamp
    recording: Recording | None = None
    ticket_type: str | None = None  # a hint from another service, used until the recording arrives
    status: str | None = None
    owner: str | None = None
    unit_id: str | None = None
    department_id: str | None = None
    breached: bool = False


@dataclass(frozen=True)
class TimelineEntry:
    entry_id: str
    event_type: str
    kind: str
    occurred_at: datetime
    aggregate_id: str
    source: str
    data: dict[str, Any]
    ticket_id: str | None = None
    call_id: str | None = None
    incident_id: str | None = None


@dataclass
class Projection:
    entries: list[TimelineEntry] = field(default_factory=list)
    changes: list[TicketChange] = field(default_factory=list)
    incident_links: list[tuple[str, str]] = field(default_factory=list)  # (ticket_id, incident_id)


@dataclass(frozen=True)
class Observed:
    """One event as records sees it: the CloudEvent's attributes and its JSON data."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: dict[str, Any]


# --- phones and text ---------------------------------------------------------------------------


def normalise_text(value: str | None) -> str:
    """How names and addresses are compared: lower case, no white space (Chinese has none)."""
    return "".join((value or "").split()).lower()


# Held by at least this share of rows: not worth a posting list (selective_grams).
COMMON_GRAM = 0.5


def query_grams(value: str) -> list[str]:
    """The grams a substring must find in the row's gram array (see migration 0002): its
    bigrams, or the one character of a one-character query."""
    text = normalise_text(value)
    if len(text) == 1:
        return [text]
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def selective_grams(grams: list[str], frequencies: dict[str, float]) -> list[str]:
    """The grams worth looking up, given the share of rows holding each (the column's statistics;
    absent: rare). A gram most rows hold (号楼, 单元 in addresses) filters almost nothing yet
    costs the GIN scan its longest posting list: at ten million tickets, dropping them makes an
    estate + building + unit search 2.5-3.5x faster. The LIKE recheck keeps the result exact
    whatever is left out; the rarest gram is always kept so the index is used."""
    kept = [g for g in grams if frequencies.get(g, 0.0) < COMMON_GRAM]
    return kept or [min(grams, key=lambda g: frequencies.get(g, 0.0))]


def like_pattern(value: str) -> str:
    """`%value%` with LIKE's own characters escaped (backslash is PostgreSQL's default escape)."""
    text = normalise_text(value)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- the projection ------------------------------------------------------------------------------


def _at(data: dict[str, Any], name: str, fallback: datetime) -> datetime:
    value = data.get(name)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else fallback
    return fallback


def _str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def public_data(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in PERSONAL_FIELDS}


def _entry(
    event: Observed, kind: str, at: datetime, *, entry_id: str | None = None, **refs: str | None
) -> TimelineEntry:
    return TimelineEntry(
        entry_id=entry_id or event.id,
        event_type=event.type,
        kind=kind,
        occurred_at=at,
        aggregate_id=event.subject,
        source=event.source,
        data=public_data(event.data),
        **refs,
    )


# Each projector: (event, business time) -> Projection. The time field per type is in TIME_FIELD
# (several: the first the event carries).
Projector = Callable[[Observed, datetime], Projection]

TIME_FIELD: dict[str, str | tuple[str, ...]] = {
    "brightline.intake.call.ringing.v1": "rang_at",
    "brightline.intake.call.ringing.v2": "rang_at",
    "brightline.intake.call.answered.v1": "answered_at",
    "brightline.intake.call.ended.v1": "ended_at",
    "brightline.intake.ticket.recorded.v1": "recorded_at",
    "brightline.intake.ticket.recorded.v2": "recorded_at",
    "brightline.intake.ticket.owner-changed.v1": "changed_at",
    "brightline.intake.ticket.completed.v1": "completed_at",
    "brightline.intake.ticket.completed.v2": "completed_at",
    "brightline.intake.ticket.reopened.v1": "reopened_at",
    "brightline.intake.escalation.requested.v1": "requested_at",
    "brightline.intake.escalation.resolved.v1": "resolved_at",
    "brightline.dispatch.work-order.created.v1": "created_at",
    "brightline.dispatch.work-order.created.v2": "created_at",
    "brightline.dispatch.work-order.status-changed.v1": "changed_at",
    # Passed at its review (审核); a return from before reviews passed when the crew handed it in.
    "brightline.dispatch.work-order.returned.v1": ("reviewed_at", "returned_at"),
    "brightline.dispatch.work-order.cancel-requested.v1": "requested_at",
    "brightline.dispatch.work-order.cancel-refused.v1": "refused_at",
    "brightline.dispatch.outage.declared.v1": "declared_at",
    "brightline.dispatch.outage.updated.v1": "updated_at",
    "brightline.dispatch.outage.updated.v2": "updated_at",
    "brightline.dispatch.outage.restored.v1": "restored_at",
    "brightline.casework.case.opened.v1": "opened_at",
    "brightline.casework.case.status-changed.v1": "changed_at",
    "brightline.casework.case.reminded.v1": "reminded_at",
    "brightline.casework.case.escalated.v1": "escalated_at",
    "brightline.callback.task.created.v1": "created_at",
    "brightline.callback.outcome.recorded.v1": "recorded_at",
    "brightline.callback.reopen.requested.v1": "requested_at",
    "brightline.sla.deadline.opened.v1": "opened_at",
    "brightline.sla.deadline.warned.v1": "warned_at",
    "brightline.sla.deadline.breached.v1": "breached_at",
    "brightline.sla.deadline.met.v1": "met_at",
    "brightline.sla.deadline.cancelled.v1": "cancelled_at",
}

# Not part of any ticket's life: consumed (the topic is read) and left out on purpose.
NOT_ABOUT_A_TICKET = frozenset({"brightline.callback.rate.computed.v1"})


def _call(kind: str) -> Projector:
    def project(event: Observed, at: datetime) -> Projection:
        return Projection(entries=[_entry(event, kind, at, call_id=_str(event.data, "call_id"))])

    return project


def _ticket_recorded(event: Observed, at: datetime) -> Projection:
    d = event.data
    ticket_id = d["ticket_id"]
    reported = _str(d, "reported_party")
    recording = Recording(
        ticket_no=d["ticket_no"],
        ticket_type=d["ticket_type"],
        recorded_at=at,
        first_ask_owner=d["first_ask_owner"],
        call_id=_str(d, "call_id"),
        customer_id=_str(d, "customer_id"),
        caller_name=_str(d, "caller_name"),
        phone=_str(d, "phone"),
        phone_norm=normalise_phone(_str(d, "phone")),
        address=_str(d, "address"),
        area_code=_str(d, "area_code"),
        anonymous=bool(d.get("anonymous", False)),
        reported_party=reported,
        reported_party_norm="".join(reported.split()).casefold() if reported else None,
        linked_ticket_id=_str(d, "linked_ticket_id"),
    )
    stamp = Stamp(at, event.id)
    projection = Projection(
        entries=[
            _entry(event, "ticket.recorded", at, ticket_id=ticket_id, call_id=recording.call_id)
        ],
        changes=[
            TicketChange(
                ticket_id,
                stamp,
                recording=recording,
                status="recorded",
                owner=recording.first_ask_owner,
            )
        ],
    )
    if recording.linked_ticket_id:
        # The original ticket's life shows the repeat call linked to it.
        projection.entries.append(
            _entry(
                event,
                "ticket.linked",
                at,
                entry_id=f"{event.id}:linked",
                ticket_id=recording.linked_ticket_id,
            )
        )
    if incident := _str(d, "linked_incident_id"):
        projection.incident_links.append((ticket_id, incident))
    return projection


def _ticket(kind: str, *, status: str | None = None, owner_field: str | None = None) -> Projector:
    def project(event: Observed, at: datetime) -> Projection:
        d = event.data
        ticket_id = d["ticket_id"]
        return Projection(
            entries=[_entry(event, kind, at, ticket_id=ticket_id)],
            changes=[
                TicketChange(
                    ticket_id,
                    Stamp(at, event.id),
                    ticket_type=_str(d, "ticket_type"),
                    status=status,
                    owner=_str(d, owner_field) if owner_field else None,
                    unit_id=_str(d, "unit_id"),
                )
            ],
        )

    return project


# A callback that did not reach the customer is not "called back": the ticket says why not.
UNREACHED_CALLBACK = {"unreachable": "callback_unreached", "declined": "callback_declined"}
_called_back = _ticket("callback.outcome", status="called_back")
_not_reached = {
    outcome: _ticket("callback.outcome", status=status)
    for outcome, status in UNREACHED_CALLBACK.items()
}


def _callback_outcome(event: Observed, at: datetime) -> Projection:
    return _not_reached.get(str(event.data.get("outcome")), _called_back)(event, at)


def _escalation(kind: str) -> Projector:
    def project(event: Observed, at: datetime) -> Projection:
        d = event.data
        return Projection(
            entries=[
                _entry(event, kind, at, ticket_id=_str(d, "ticket_id"), call_id=_str(d, "call_id"))
            ]
        )

    return project


def _work_order(kind: str | None, status: str | None) -> Projector:
    def project(event: Observed, at: datetime) -> Projection:
        d = event.data
        ticket_id = d["ticket_id"]
        new_status = status or d.get("status")
        incident = _str(d, "incident_id")
        # Back on site from `returned`: the dispatcher sent the crew's return back (回单退回).
        sent_back = kind is None and d.get("previous_status") == "returned"
        return Projection(
            entries=[
                _entry(
                    event,
                    kind or ("work_order.sent_back" if sent_back else f"work_order.{new_status}"),
                    at,
                    ticket_id=ticket_id,
                    incident_id=incident,
                )
            ],
            changes=[
                TicketChange(
                    ticket_id,
                    Stamp(at, event.id),
                    ticket_type="repair",
                    status=new_status,
                    unit_id=_str(d, "unit_id"),
                )
            ],
            incident_links=[(ticket_id, incident)] if incident else [],
        )

    return project


_WORK_ORDER_CREATED = _work_order("work_order.created", "dispatched")


def _work_order_note(kind: str) -> Projector:
    """A step in the order's life that moves nothing (a crew's request to cancel, its refusal):
    in the timeline, the ticket's status as it was."""

    def project(event: Observed, at: datetime) -> Projection:
        return Projection(entries=[_entry(event, kind, at, ticket_id=event.data["ticket_id"])])

    return project


def _work_order_created_v2(event: Observed, at: datetime) -> Projection:
    """v1's created entry and, when the creating step offered the order to a crew, the entry
    v1's status-changed event made (an id of its own); the ticket takes the later status."""
    created = _WORK_ORDER_CREATED(event, at)
    d = event.data
    status = _str(d, "status")
    if status is None or status == "created" or d.get("status_changed_at") is None:
        return created
    moved_at = _at(d, "status_changed_at", at)
    incident = _str(d, "incident_id")
    ticket_id = d["ticket_id"]
    created.entries.append(
        _entry(
            event,
            f"work_order.{status}",
            moved_at,
            entry_id=f"{event.id}:{status}",
            ticket_id=ticket_id,
            incident_id=incident,
        )
    )
    created.changes[:] = [
        TicketChange(
            ticket_id,
            Stamp(moved_at, event.id),
            ticket_type="repair",
            status=status,
            unit_id=_str(d, "unit_id"),
        )
    ]
    return created


def _incident(kind: str, tickets_field: str | None, status: str | None = None) -> Projector:
    def project(event: Observed, at: datetime) -> Projection:
        d = event.data
        incident = d["incident_id"]
        tickets = (
            [t for t in (d.get(tickets_field) or []) if isinstance(t, str)] if tickets_field else []
        )
        return Projection(
            entries=[_entry(event, kind, at, incident_id=incident)],
            changes=[TicketChange(t, Stamp(at, event.id), status=status) for t in tickets]
            if status
            else [],
            incident_links=[(t, incident) for t in tickets],
        )

    return project


def _case_step(data: dict[str, Any]) -> str:
    """A case's move as the history names it: its new status, except a reply the first-ask
    owner sent back (审核: investigating again after replied) and a department's return to the
    centre (回退: opened again), which are steps of their own."""
    status, previous = data.get("status"), data.get("previous_status")
    if status == "investigating" and previous == "replied":
        return "case.sent_back"
    if status == "opened" and previous != "opened":
        return "case.returned"
    return f"case.{status}"


# The department of a case no department holds: returned to the centre (回退). Not None, which
# a change reads as "no news"; matches no caseworker's department, so the department that returned
# it no longer finds it nor reads a whistle-blower's identity on it (casework's rule for the
# contact is the same). The API says None.
NO_DEPARTMENT = ""


def _case(kind: str | None, *, status: str | None = None, moves: bool = False) -> Projector:
    def project(event: Observed, at: datetime) -> Projection:
        d = event.data
        ticket_id = d["ticket_id"]
        step = kind or _case_step(d)
        department = NO_DEPARTMENT if step == "case.returned" else _str(d, "department_id")
        new_status = status or (d.get("status") if moves else None)
        return Projection(
            entries=[_entry(event, step, at, ticket_id=ticket_id)],
            changes=[
                TicketChange(
                    ticket_id,
                    Stamp(at, event.id),
                    ticket_type=_str(d, "case_type"),
                    status=new_status,
                    unit_id=_str(d, "department_id") if moves else None,
                    department_id=department if moves else None,
                )
            ],
        )

    return project


def _deadline(kind: str, *, breached: bool = False) -> Projector:
    def project(event: Observed, at: datetime) -> Projection:
        ticket_id = _str(event.data, "ticket_id")
        return Projection(
            entries=[_entry(event, kind, at, ticket_id=ticket_id)],
            changes=[TicketChange(ticket_id, Stamp(at, event.id), breached=True)]
            if breached and ticket_id
            else [],
        )

    return project


PROJECTORS: dict[str, Projector] = {
    "brightline.intake.call.ringing.v1": _call("call.ringing"),
    "brightline.intake.call.ringing.v2": _call("call.ringing"),
    "brightline.intake.call.answered.v1": _call("call.answered"),
    "brightline.intake.call.ended.v1": _call("call.ended"),
    "brightline.intake.ticket.recorded.v1": _ticket_recorded,
    "brightline.intake.ticket.recorded.v2": _ticket_recorded,
    "brightline.intake.ticket.owner-changed.v1": _ticket(
        "ticket.owner_changed", owner_field="new_owner"
    ),
    "brightline.intake.ticket.completed.v1": _ticket("ticket.completed", status="completed"),
    "brightline.intake.ticket.completed.v2": _ticket("ticket.completed", status="completed"),
    "brightline.intake.ticket.reopened.v1": _ticket("ticket.reopened", status="reopened"),
    "brightline.intake.escalation.requested.v1": _escalation("escalation.requested"),
    "brightline.intake.escalation.resolved.v1": _escalation("escalation.resolved"),
    "brightline.dispatch.work-order.created.v1": _WORK_ORDER_CREATED,
    "brightline.dispatch.work-order.created.v2": _work_order_created_v2,
    "brightline.dispatch.work-order.status-changed.v1": _work_order(None, None),
    # 回单 passed review (审核), with its resolution and cause; the crew's handing it back is the
    # status change "returned".
    "brightline.dispatch.work-order.returned.v1": _work_order("work_order.resolution", "returned"),
    # 申请撤单 and its refusal; a request granted is the status change "cancelled".
    "brightline.dispatch.work-order.cancel-requested.v1": _work_order_note(
        "work_order.cancel_requested"
    ),
    "brightline.dispatch.work-order.cancel-refused.v1": _work_order_note(
        "work_order.cancel_refused"
    ),
    "brightline.dispatch.outage.declared.v1": _incident("incident.declared", None),
    "brightline.dispatch.outage.updated.v1": _incident("incident.updated", "linked_ticket_ids"),
    "brightline.dispatch.outage.updated.v2": _incident("incident.updated", "added_ticket_ids"),
    "brightline.dispatch.outage.restored.v1": _incident(
        "incident.restored", "ticket_ids", status="restored"
    ),
    "brightline.casework.case.opened.v1": _case("case.opened", status="case_opened"),
    "brightline.casework.case.status-changed.v1": _case(None, moves=True),
    "brightline.casework.case.reminded.v1": _case("case.reminded"),
    "brightline.casework.case.escalated.v1": _case("case.escalated"),
    "brightline.callback.task.created.v1": _ticket("callback.due", status="callback_due"),
    "brightline.callback.outcome.recorded.v1": _callback_outcome,
    "brightline.callback.reopen.requested.v1": _ticket(
        "callback.reopen_requested", status="reopen_requested"
    ),
    "brightline.sla.deadline.opened.v1": _deadline("deadline.opened"),
    "brightline.sla.deadline.warned.v1": _deadline("deadline.warned"),
    "brightline.sla.deadline.breached.v1": _deadline("deadline.breached", breached=True),
    "brightline.sla.deadline.met.v1": _deadline("deadline.met"),
    "brightline.sla.deadline.cancelled.v1": _deadline("deadline.cancelled"),
}


def _unknown(event: Observed) -> Projection:
    """An event type this build does not know (a newer version, a new service): kept in the
    timeline as it came, attached by whatever reference it carries."""
    d = event.data
    return Projection(
        entries=[
            _entry(
                event,
                "other",
                event.time,
                ticket_id=_str(d, "ticket_id"),
                call_id=_str(d, "call_id"),
                incident_id=_str(d, "incident_id"),
            )
        ]
    )


# A ticket's life in its usual order: breaks ties between entries of the same instant (a work
# order is created and assigned in one transaction, with one timestamp).
LIFE_ORDER = (
    "call.ringing",
    "call.answered",
    "ticket.recorded",
    "ticket.linked",
    "case.opened",
    "work_order.created",
    "work_order.assigned",
    "work_order.accepted",
    "work_order.en_route",
    "work_order.cancel_requested",
    "work_order.cancel_refused",
    "work_order.on_site",
    "work_order.resolved",
    "work_order.returned",
    "work_order.sent_back",
    "work_order.resolution",
    "work_order.cancelled",  # called off: its callback, of the same instant, follows it
    "callback.due",
    "callback.outcome",
    "callback.reopen_requested",
)
_RANK = {kind: n for n, kind in enumerate(LIFE_ORDER)}


def timeline_order(occurred_at: datetime, kind: str, entry_id: str) -> tuple[datetime, int, str]:
    """Sort key of a timeline: time, then the usual order of a life, then the id (stable)."""
    return (occurred_at, _RANK.get(kind, len(LIFE_ORDER)), entry_id)


def project(event: Observed) -> Projection:
    if event.type in NOT_ABOUT_A_TICKET:
        return Projection()
    projector = PROJECTORS.get(event.type)
    if projector is None:
        return _unknown(event)
    at = event.time
    for name in reversed(_names(TIME_FIELD[event.type])):
        at = _at(event.data, name, at)
    return projector(event, at)


def _names(field: str | tuple[str, ...]) -> tuple[str, ...]:
    return (field,) if isinstance(field, str) else field
