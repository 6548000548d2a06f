"""The duty supervisor's chase (催办) from the clocks board reaches casework: kept in the case's
history under the supervisor's name and published as a reminder, as often as it is made; only a
supervisor may chase."""

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.integration


async def test_a_supervisor_chase_is_kept_on_the_case_and_published(casework, bus, helpers):
    h = helpers
    recorded = h.ticket("complaint", complaint_subtype="outage", complaint_grade="major")
    await bus.publish(recorded)
    cid = (await h.case_of(casework, recorded.ticket_id))["id"]
    due = datetime.now(UTC) + timedelta(days=5)
    body = {"deadline_id": "dl-chase-1", "limit_key": "complaint.reply", "due_at": due.isoformat()}

    refused = await casework.post(f"/cases/{cid}/chase", json=body, headers=h.AGENT)
    assert refused.status_code == 403, refused.text
    for _ in range(2):
        chased = await casework.post(f"/cases/{cid}/chase", json=body, headers=h.SUPERVISOR)
        assert chased.status_code == 200, chased.text

    steps = [s for s in chased.json()["history"] if s["action"] == "remind"]
    assert [s["actor"] for s in steps] == ["sup-1", "sup-1"]
    events = await bus.case_events(cid, at_least=3)
    reminded = [e for e in events if e.type == "brightline.casework.case.reminded.v1"]
    assert len(reminded) == 2
    assert reminded[0].data["deadline_id"] == "dl-chase-1"
    assert reminded[0].data["limit_key"] == "complaint.reply"
