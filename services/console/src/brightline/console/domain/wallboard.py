"""The wallboard's own arithmetic: agents by state and the longest wait. Pure: numbers the
services published in, numbers out. Every other figure on the wallboard, the callback rate's
month-end projection too, is the SLA monitor's, passed through unchanged so the two never differ
(and its alert and the wallboard never tell the floor two different things)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any


def agents_by_state(agents: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(Counter(str(a.get("state") or "offline") for a in agents))


def longest_wait_s(waiting: Iterable[Mapping[str, Any]], now: datetime) -> float | None:
    """Seconds the longest-waiting caller in any queue has been ringing; None with nobody waiting."""
    rung = [datetime.fromisoformat(c["rang_at"]) for c in waiting]
    return max((now - r).total_seconds() for r in rung) if rung else None
