"""Every open deadline as a clock on the supervisor's board: its kind, the time left, how much of
its span has gone, and whether the pack in force lets it stop. Pure: the SLA monitor's deadlines
and the book of packs in, rows sorted by urgency out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

KINDS = ("call", "arrival", "transfer", "reply", "callback", "service")
OPEN_STATES = ("open", "warned", "breached", "paused")


def kind_of(limit_key: str) -> str:
    """call.answer → call; repair.arrival.urban, appointment.arrival → arrival; *.transfer →
    transfer; *.reply, first_ask.answer → reply; callback.window → callback; the 004 service
    limits (meter fault, restoring supply, connections) → service."""
    if limit_key == "call.answer":
        return "call"
    if limit_key.endswith(".arrival") or ".arrival." in limit_key:
        return "arrival"
    if limit_key.endswith(".transfer"):
        return "transfer"
    if limit_key.endswith("reply") or limit_key == "first_ask.answer":
        return "reply"
    if limit_key.startswith("callback."):
        return "callback"
    return "service"


@dataclass(frozen=True)
class Owner:
    """Who a clock waits on, as the owning service names them: `key` is `crew:<id>` or
    `department:<id>`, `name` what the board shows."""

    key: str
    name: str


def owners(
    deadlines: Iterable[Mapping[str, Any]],
    *,
    orders: Iterable[Mapping[str, Any]],
    crews: Iterable[Mapping[str, Any]],
    cases: Iterable[Mapping[str, Any]],
    departments: Iterable[Mapping[str, Any]],
) -> dict[str, Owner]:
    """Each deadline's owner where its service knows one: a work order's clock (arrival) waits on
    the crew dispatch assigned; a ticket's clock (transfer, reply, the 004 limits) on the
    department casework's case is with. A ringing call or a callback task has none here."""
    order_crew = {str(o["id"]): o.get("crew_id") for o in orders}
    crew_name = {str(c["crew_id"]): c.get("name") or str(c["crew_id"]) for c in crews}
    case_department = {str(c["ticket_id"]): c.get("department_id") for c in cases}
    department_name = {str(d["id"]): d.get("name") or str(d["id"]) for d in departments}
    found: dict[str, Owner] = {}
    for d in deadlines:
        if d.get("subject_type") == "work_order":
            crew = order_crew.get(str(d.get("subject_id")))
            if crew:
                found[str(d["id"])] = Owner(f"crew:{crew}", crew_name.get(crew, crew))
        elif d.get("ticket_id"):
            department = case_department.get(str(d["ticket_id"]))
            if department:
                found[str(d["id"])] = Owner(
                    f"department:{department}", department_name.get(department, department)
                )
    return found


@dataclass(frozen=True)
class Clock:
    id: str
    limit_key: str
    kind: str
    state: str
    ticket_id: str | None
    subject_id: str
    unit_id: str | None
    ticket_type: str | None
    opened_at: datetime
    due_at: datetime | None
    paused_since: datetime | None
    seconds_left: float | None
    elapsed: float | None
    pausable: bool
    owner: str | None = None
    owner_name: str | None = None


def clock_of(
    deadline: Mapping[str, Any], now: datetime, pausable: bool, owner: Owner | None = None
) -> Clock:
    opened = datetime.fromisoformat(str(deadline["opened_at"]))
    due = datetime.fromisoformat(str(deadline["due_at"])) if deadline.get("due_at") else None
    paused = (
        datetime.fromisoformat(str(deadline["paused_since"]))
        if deadline.get("paused_since")
        else None
    )
    # A stopped clock stands where it stopped: its due time moves only when it resumes.
    at = paused or now
    left = (due - at).total_seconds() if due else None
    span = (due - opened).total_seconds() if due else None
    return Clock(
        id=str(deadline["id"]),
        limit_key=str(deadline["limit_key"]),
        kind=kind_of(str(deadline["limit_key"])),
        state=str(deadline["state"]),
        ticket_id=deadline.get("ticket_id"),
        subject_id=str(deadline["subject_id"]),
        unit_id=deadline.get("unit_id"),
        ticket_type=deadline.get("ticket_type"),
        opened_at=opened,
        due_at=due,
        paused_since=paused,
        seconds_left=left,
        elapsed=((at - opened).total_seconds() / span) if span else None,
        pausable=pausable,
        owner=owner.key if owner else None,
        owner_name=owner.name if owner else None,
    )


def board(
    deadlines: Iterable[Mapping[str, Any]],
    now: datetime,
    *,
    pausable: Callable[[Mapping[str, Any]], bool],
    kind: str | None = None,
    unit_id: str | None = None,
    owners: Mapping[str, Owner] | None = None,
    owner: str | None = None,
) -> list[Clock]:
    """The open clocks, filtered (by kind, unit, owner key), most urgent first: the least time
    left (overdue ones, most overdue first), then those with no due time; stopped clocks after
    the running ones."""
    known = owners or {}
    clocks = [
        clock_of(d, now, pausable(d), known.get(str(d["id"])))
        for d in deadlines
        if d.get("state") in OPEN_STATES
        and (unit_id is None or d.get("unit_id") == unit_id)
        and (kind is None or kind_of(str(d["limit_key"])) == kind)
        and (owner is None or getattr(known.get(str(d["id"])), "key", None) == owner)
    ]
    return sorted(
        clocks,
        key=lambda c: (
            c.state == "paused",
            c.seconds_left is None,
            c.seconds_left if c.seconds_left is not None else 0.0,
        ),
    )
