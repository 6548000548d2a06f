"""The loop closes (闭环): an answered case whose callback ended satisfied is archived by
casework itself; a reopening carries its count so the SLA monitor opens a new reply clock."""

from datetime import UTC, datetime

import pytest

from brightline.contracts.events.callback import CallbackOutcomeRecordedV1, ReopenRequestedV1

pytestmark = pytest.mark.integration


async def answered_case(casework, bus, h) -> tuple[str, str]:
    recorded = h.ticket("complaint", complaint_subtype="business", description="电费多收")
    await bus.publish(recorded)
    cid = (await h.case_of(casework, recorded.ticket_id))["id"]
    await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-marketing"}, headers=h.AGENT
    )
    await casework.post(f"/cases/{cid}/accept", headers=h.CASEWORKER)
    await casework.post(
        f"/cases/{cid}/reply", json={"text": "已退还多收电费。"}, headers=h.CASEWORKER
    )
    answered = await casework.post(
        f"/cases/{cid}/answer", json={"text": "多收电费已退还。"}, headers=h.AGENT
    )
    assert answered.json()["status"] == "answered", answered.text
    return cid, recorded.ticket_id


def outcome(ticket_id: str, value: str, origin: str = "casework") -> CallbackOutcomeRecordedV1:
    return CallbackOutcomeRecordedV1(
        task_id=f"cb-{ticket_id}-{value}",
        ticket_id=ticket_id,
        ticket_type="complaint",
        origin=origin,
        outcome=value,
        attempts=1,
        recorded_at=datetime.now(UTC),
        agent_id="cb-agent",
    )


async def test_unsatisfied_reopens_then_satisfied_closes(casework, bus, helpers):
    h = helpers
    cid, tid = await answered_case(casework, bus, h)
    await bus.publish(
        outcome(tid, "unsatisfied"),  # not a closing outcome: the reopen request does the work
        ReopenRequestedV1(
            ticket_id=tid,
            task_id=f"cb-{tid}-unsatisfied",
            origin="casework",
            reason="退费金额不对",
            requested_at=datetime.now(UTC),
        ),
    )

    async def status_is(wanted):
        async def check():
            view = (await casework.get(f"/cases/{cid}", headers=h.SUPERVISOR)).json()
            return view if view["status"] == wanted else None

        return await h.eventually(check, timeout=60)

    await status_is("reopened")
    events = await bus.case_events(cid, at_least=6)
    reopened = [e for e in events if e.data.get("status") == "reopened"]
    assert reopened[-1].data["reopen_count"] == 1

    await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-marketing"}, headers=h.AGENT
    )
    await casework.post(f"/cases/{cid}/accept", headers=h.CASEWORKER)
    await casework.post(f"/cases/{cid}/reply", json={"text": "已补退差额。"}, headers=h.CASEWORKER)
    await casework.post(f"/cases/{cid}/answer", json={"text": "差额已补退。"}, headers=h.AGENT)
    await bus.publish(outcome(tid, "satisfied"))
    closed = await status_is("closed")
    step = closed["history"][-1]
    assert step["action"] == "close" and step["actor"] == "callback"
    assert step["note"] == "回访客户满意，归档"
