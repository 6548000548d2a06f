"""By when a complainant or reporter hears back (seed 004 §3.2–3.3), told before they hang up.

Computed when the ticket is recorded, from the policy pack in force through the shared library
(brightline.calendar.policy, the one source the SLA monitor and casework read too), in the
pack's own unit. The SLA monitor opens the same clock when casework opens the case, a moment
later, so the date promised is never later than the one enforced.
"""

from __future__ import annotations

from datetime import datetime

from brightline.calendar.policy import adopted_book, limit_due

# Ticket types whose reply the caller is promised: `<type>.reply` of the pack in force.
PROMISED = frozenset({"complaint", "report"})


def promise_for(ticket_type: str, recorded_at: datetime, tz: str | None = None) -> dict | None:
    """The promise kept on the ticket (details.reply_promise), or None for types without one."""
    if ticket_type not in PROMISED:
        return None
    key = f"{ticket_type}.reply"
    pack = adopted_book().in_force(recorded_at)
    limit = pack.limit(key)
    due_at, provisional = limit_due(limit, recorded_at, tz)
    return {
        "limit_key": key,
        "amount": limit.amount,
        "unit": str(limit.unit),
        "due_at": due_at.isoformat(),
        "opened_at": recorded_at.isoformat(),
        "policy_pack": pack.ref,
        "provisional": provisional,
    }
