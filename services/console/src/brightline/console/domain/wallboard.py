"""The wallboard's own arithmetic: the callback rate's month-end projection per unit, agents by
state and the longest wait. Pure: numbers the services published in, numbers out. Every other
figure on the wallboard is the SLA monitor's, passed through unchanged so the two never differ."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class UnitCallbacks:
    unit_id: str
    finished: int
    called_back: int
    unreached: int
    pending: int
    month_to_date: float | None
    projection: float | None
    alarm: bool


def project_callback_rate(finished: int, called_back: int, unreached: int) -> float | None:
    """Where the month ends, not where it stands: the month-to-date ratio counts every ticket still
    waiting for its callback as a failure, so it sags at each day's end and recovers overnight. The
    tickets still pending are counted as reached in the proportion the decided ones were (called
    back / called back + every attempt failed); with nothing decided yet they count as the
    month-to-date ratio has it."""
    if not finished:
        return None
    pending = max(finished - called_back - unreached, 0)
    decided = called_back + unreached
    if not decided:
        return called_back / finished
    return (called_back + pending * called_back / decided) / finished


def callbacks_by_unit(rates: Iterable[Mapping[str, Any]], *, target: float) -> list[UnitCallbacks]:
    """One row per unit from the callback service's daily rates (each key's latest), alarm when
    the projection falls below the pack's callback.rate target."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rates:
        s = sums[str(r["unit_id"])]
        s[0] += int(r.get("finished", 0))
        s[1] += int(r.get("called_back", 0))
        s[2] += int(r.get("attempted_unreached", 0))
    rows = []
    for unit, (finished, called_back, unreached) in sorted(sums.items()):
        projection = project_callback_rate(finished, called_back, unreached)
        rows.append(
            UnitCallbacks(
                unit_id=unit,
                finished=finished,
                called_back=called_back,
                unreached=unreached,
                pending=max(finished - called_back - unreached, 0),
                month_to_date=called_back / finished if finished else None,
                projection=projection,
                alarm=projection is not None and projection < target,
            )
        )
    return rows


def agents_by_state(agents: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(Counter(str(a.get("state") or "offline") for a in agents))


def longest_wait_s(waiting: Iterable[Mapping[str, Any]], now: datetime) -> float | None:
    """Seconds the longest-waiting caller in any queue has been ringing; None with nobody waiting."""
    rung = [datetime.fromisoformat(c["rang_at"]) for c in waiting]
    return max((now - r).total_seconds() for r in rung) if rung else None
