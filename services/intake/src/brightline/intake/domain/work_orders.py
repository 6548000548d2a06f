"""Intake's copy of dispatch's work orders, folded over a consumer's batch.

Each event of an order used to be an upsert of its own, applied in the batch's order:

- an order seen (created, status changed, returned) inserts its row, or on conflict sets
  status and updated_at, and crew_id unless the event has none, when the stored updated_at is
  not later than the event's (out of order across partitions: never move a later state back);
- an arrival deadline inserts the row as "created" at the deadline's opening, or on conflict
  sets arrive_by, whatever the row's time.

A batch's events of one order fold into one row offered to the table, which leaves the row
those upserts left one by one: `inserted` is what they leave when the order has no row yet;
the seen_* fields say what they do to a stored row, whatever it holds (see ORDERS_SEEN in
adapters/repository.py, which applies them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

COLUMNS = ("work_order_id", "ticket_id", "unit_id", "status", "crew_id", "updated_at", "arrive_by")


@dataclass
class OrderFold:
    inserted: dict[str, Any]
    # The latest order event (the last of those with the latest time): its status and time
    # win over a stored row not later than it. None: the batch saw only deadlines.
    seen_status: str | None = None
    seen_at: datetime | None = None
    # The last crew named by an event that would have applied after all the batch's earlier
    # ones (its time not earlier than theirs): its crew wins over a stored row not later
    # than it; later events naming none keep it.
    seen_crew: str | None = None
    crew_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        return self.inserted | {
            "seen_status": self.seen_status,
            "seen_at": self.seen_at,
            "seen_crew": self.seen_crew,
            "crew_at": self.crew_at,
        }


class WorkOrderFold:
    """The batch's work-order events, one OrderFold per order, in the order first seen."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderFold] = {}

    def seen(self, row: dict[str, Any]) -> None:
        """An order event: work_order_id, ticket_id, unit_id, status, crew_id, updated_at."""
        at, crew = row["updated_at"], row["crew_id"]
        fold = self._fold(row)
        if fold is not None:  # the row as the upsert's conflict branch would leave it
            kept = fold.inserted
            if kept["updated_at"] <= at:
                kept.update(status=row["status"], updated_at=at)
                if crew is not None:
                    kept["crew_id"] = crew
        else:
            fold = self.orders[row["work_order_id"]]
        if fold.seen_at is None or fold.seen_at <= at:
            fold.seen_status, fold.seen_at = row["status"], at
            if crew is not None:
                fold.seen_crew, fold.crew_at = crew, at

    def deadline(self, row: dict[str, Any]) -> None:
        """An arrival deadline: work_order_id, ticket_id, status, updated_at, arrive_by."""
        fold = self._fold(row) or self.orders[row["work_order_id"]]
        fold.inserted["arrive_by"] = row["arrive_by"]

    def _fold(self, row: dict[str, Any]) -> OrderFold | None:
        """The order's fold when it already had one; else a new one inserting `row` (None)."""
        fold = self.orders.get(row["work_order_id"])
        if fold is None:
            self.orders[row["work_order_id"]] = OrderFold({c: row.get(c) for c in COLUMNS})
        return fold

    def rows(self) -> list[dict[str, Any]]:
        return [fold.row() for fold in self.orders.values()]
