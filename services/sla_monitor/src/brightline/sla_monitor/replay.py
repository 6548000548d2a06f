"""Deterministic replay: the monitor's state rebuilt from an ordered event history.

`replay(history, until)` runs the very handlers the live service runs, over
a memory store, then fires every timer due by `until`. Because each decision
is a pure function of (events, time), the breaches it finds are the breaches
the live run emitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from brightline.contracts import Event, EventPayload
from brightline.contracts.events.sla import DeadlineBreachedV1, DeadlineBreachRetractedV1
from brightline.sla_monitor import handlers
from brightline.sla_monitor.adapters.repository import MemoryStore
from brightline.sla_monitor.domain.monitor import Tracked
from brightline.sla_monitor.domain.policy import PolicyBook
from brightline.sla_monitor.translate import inputs_for


@dataclass
class Replayed:
    deadlines: dict[str, Tracked]
    emitted: list[EventPayload]

    @property
    def breaches(self) -> list[tuple[str, str, str]]:
        return breach_keys(self.emitted)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def breach_keys(payloads: Iterable[EventPayload]) -> list[tuple[str, str, str]]:
    """(deadline id, level, breached_at ISO) of each breach not retracted since, sorted: what 'the
    same breaches' means. A retracted breach was never a breach of the work, only of the delivery."""
    payloads = list(payloads)
    retracted = {p.deadline_id for p in payloads if isinstance(p, DeadlineBreachRetractedV1)}
    return sorted(
        (p.deadline_id, p.level, utc_iso(p.breached_at))
        for p in payloads
        if isinstance(p, DeadlineBreachedV1) and p.deadline_id not in retracted
    )


async def replay(history: Iterable[Event], until: datetime, *, book: PolicyBook) -> Replayed:
    store, emitted = MemoryStore(), list[EventPayload]()
    for event in history:
        for command in inputs_for(event, book):
            await handlers.handle(command, store, emitted.append, book=book)
    while await handlers.tick(until, store, emitted.append):
        pass
    return Replayed(store.rows, emitted)
