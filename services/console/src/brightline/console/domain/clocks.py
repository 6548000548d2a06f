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


def clock_of(deadline: Mapping[str, Any], now: datetime, pausable: bool) -> Clock:
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
    )


def board(
    deadlines: Iterable[Mapping[str, Any]],
    now: datetime,
    *,
    pausable: Callable[[Mapping[str, Any]], bool],
    kind: str | None = None,
    unit_id: str | None = None,
) -> list[Clock]:
    """The open clocks, filtered, most urgent first: the least time left (overdue ones, most
    overdue first), then those with no due time; stopped clocks after the running ones."""
    clocks = [
        clock_of(d, now, pausable(d))
        for d in deadlines
        if d.get("state") in OPEN_STATES
        and (unit_id is None or d.get("unit_id") == unit_id)
        and (kind is None or kind_of(str(d["limit_key"])) == kind)
    ]
    return sorted(
        clocks,
        key=lambda c: (
            c.state == "paused",
            c.seconds_left is None,
            c.seconds_left if c.seconds_left is not None else 0.0,
        ),
    )
