"""首问负责制: the first receiver passes the case to the responsible department in time (seed 004,
95598 article 1.1: within 1 working day; complaints and reports at once, 3.2).

The limit is not casework's own number: it is read from the policy pack in force when the case
opened (brightline.calendar.policy, the one source every service reads), `<type>.transfer` where
the pack has one (complaints, reports: hours), else `case.transfer` (working days, official
calendar with 调休). The SLA monitor opens the same limit from the same pack and enforces it.
"""

from __future__ import annotations

from datetime import datetime

from brightline.calendar.policy import adopted_book, limit_due, transfer_key


def transfer_due(
    case_type: str, opened_at: datetime, *, tz: str | None = None
) -> tuple[datetime, bool]:
    """(due time, provisional?) of the transfer of a case of `case_type` opened at `opened_at`."""
    pack = adopted_book().in_force(opened_at)
    return limit_due(pack.limit(transfer_key(pack, case_type)), opened_at, tz)
