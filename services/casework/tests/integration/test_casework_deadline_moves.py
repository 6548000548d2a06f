"""A pause, a resume or a recount at the SLA monitor reaches the case: it shows the new due time
(issue 16 point 5: published as contract events so every service sees it)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from brightline.contracts.events.sla import (
    DeadlineOpenedV1,
    DeadlinePausedV1,
    DeadlineResumedV1,
)

pytestmark = pytest.mark.integration


async def test_the_case_shows_the_due_time_moved_by_a_pause(casework, bus, helpers):
    h = helpers
    recorded = h.ticket("complaint", complaint_subtype="service", complaint_grade="general")
    await bus.publish(recorded)
    cid = (await h.case_of(casework, recorded.ticket_id))["id"]
    opened = datetime.now(UTC).replace(microsecond=0)
    due = opened + timedelta(days=5)
    fact = {
        "deadline_id": f"dl-{uuid.uuid4().hex[:8]}",
        "limit_key": "complaint.reply",
        "policy_pack": "seed@1",
        "subject_type": "case",
        "subject_id": cid,
        "ticket_id": recorded.ticket_id,
    }
    await bus.publish(
        DeadlineOpenedV1(**fact, opened_at=opened, warn_at=opened + timedelta(days=4), due_at=due)
    )
    await bus.publish(
        DeadlinePausedV1(
            **fact,
            due_at=due,
            paused_at=opened + timedelta(hours=1),
            reason="waiting_for_customer",
            paused_by="sup-1",
        )
    )

    async def paused():
        view = (await casework.get(f"/cases/{cid}", headers=h.SUPERVISOR)).json()
        return view if view["deadlines"] and view["deadlines"][0]["state"] == "paused" else None

    await h.eventually(paused, timeout=60)
    # Paused for 1 day: due 5 days + 1 day after opening.
    moved = due + timedelta(days=1)
    await bus.publish(
        DeadlineResumedV1(
            **fact,
            due_at=moved,
            warn_at=opened + timedelta(days=5),
            resumed_at=opened + timedelta(days=1, hours=1),
            paused_seconds=86400,
            resumed_by="sup-1",
        )
    )

    async def resumed():
        view = (await casework.get(f"/cases/{cid}", headers=h.SUPERVISOR)).json()
        return view if view["reply_due"] and view["deadlines"][0]["state"] == "open" else None

    view = await h.eventually(resumed, timeout=60)
    assert datetime.fromisoformat(view["reply_due"]) == moved
