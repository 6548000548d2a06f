"""Dispatch's outage updates of a consumer's batch, folded into one row per incident.

An update used to be an upsert of its own, applied in the batch's order (OUTAGE_UPDATED in
adapters/repository.py): an incident with no row yet is inserted as the update says; a stored
one takes the union of its tickets and the update's, sorted, and the status, restoration and
cause the update names (a status or cause of "" names none). The upsert is the same for the
folded row: the batch's updates of an incident leave, folded, the row they left one by one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class OutageUpdateFold:
    """The batch's updates, one row per incident, in the order first seen."""

    def __init__(self) -> None:
        self.incidents: dict[str, dict[str, Any]] = {}

    def updated(
        self,
        incident_id: str,
        ticket_ids: list[str],
        expected_restore_at: datetime | None,
        cause: str | None,
        status: str | None,
    ) -> dict[str, Any]:
        """The update; returns its own row (the audit trail's record of it)."""
        own = {
            "incident_id": incident_id,
            "ticket_ids": list(ticket_ids),
            "expected_restore_at": expected_restore_at,
            "cause": cause,
            "status": status,
        }
        row = self.incidents.get(incident_id)
        if row is None:  # the first: inserted as it says, or its upsert's conflict branch
            self.incidents[incident_id] = dict(own)
            return own
        # A later one: what its upsert's conflict branch does to the row the earlier ones left.
        row["ticket_ids"] = sorted(set(row["ticket_ids"]).union(ticket_ids))
        row["status"] = status or row["status"]
        row["cause"] = cause or row["cause"]
        if expected_restore_at is not None:
            row["expected_restore_at"] = expected_restore_at
        return own

    def take(self) -> list[dict[str, Any]]:
        """The folded rows, in incident order (concurrent batches lock incidents in one order,
        never deadlocking); the fold is empty again."""
        rows = [self.incidents[key] for key in sorted(self.incidents)]
        self.incidents = {}
        return rows
