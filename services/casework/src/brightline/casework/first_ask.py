"""首问负责制: the first receiver transfers the case to the responsible department within
1 working day (seed 004, 95598 article 1.1). Counted on China's official calendar, so a
make-up working weekend (调休) counts and a public holiday does not.

This rule is casework's own (it decides when a case must leave the first-ask owner); the
reply limits (5/10 days, working-day variants) belong to the SLA monitor's policy packs and
arrive as DeadlineOpenedV1 events.
"""

from __future__ import annotations

from datetime import datetime

from brightline.calendar import add_working_days


def transfer_due(opened_at: datetime, *, working_days: int = 1, tz: str | None = None) -> datetime:
    return add_working_days(opened_at, working_days, tz)
