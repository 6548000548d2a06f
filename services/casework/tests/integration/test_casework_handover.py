"""Shift handover reaches casework: intake's owner change makes the next shift's agent the case's
first-ask owner, who may then transfer, answer and list it; the previous agent no longer may."""

from datetime import UTC, datetime

import pytest

from brightline.contracts.events.intake import TicketOwnerChangedV1
from brightline.platform.auth import Role
from brightline.platform.testing import bearer

pytestmark = pytest.mark.integration

NEXT_SHIFT = bearer(Role.AGENT, subject="agent-night", name="孙八")


async def test_handover_moves_first_ask_ownership_of_the_case(casework, bus, helpers):
    h = helpers
    recorded = h.ticket("complaint", complaint_subtype="service", description="营业厅态度差")
    await bus.publish(recorded)
    case = await h.case_of(casework, recorded.ticket_id)
    cid = case["id"]
    await bus.publish(
        TicketOwnerChangedV1(
            ticket_id=recorded.ticket_id,
            previous_owner="agent-7",
            new_owner="agent-night",
            reason="handover",
            changed_by="agent-7",
            changed_at=datetime.now(UTC),
        )
    )

    async def handed():
        view = (await casework.get(f"/cases/{cid}", headers=h.SUPERVISOR)).json()
        return view if view["first_ask_owner"] == "agent-night" else None

    view = await h.eventually(handed, timeout=60)
    assert [s["action"] for s in view["history"]] == ["open", "hand_over"]
    assert view["history"][-1]["actor"] == "agent-7"

    # The next shift lists it as theirs and transfers it; the previous agent no longer may.
    mine = await casework.get(
        "/cases", params={"first_ask_owner": "agent-night"}, headers=NEXT_SHIFT
    )
    assert [c["id"] for c in mine.json()] == [cid]
    refused = await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-marketing"}, headers=h.AGENT
    )
    assert refused.status_code == 403, refused.text
    moved = await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-marketing"}, headers=NEXT_SHIFT
    )
    assert moved.status_code == 200, moved.text
    await casework.post(f"/cases/{cid}/accept", headers=h.CASEWORKER)
    await casework.post(
        f"/cases/{cid}/reply", json={"text": "已核实并整改。"}, headers=h.CASEWORKER
    )
    answered = await casework.post(
        f"/cases/{cid}/answer",
        json={"text": "您反映的问题已整改，感谢您的监督。"},
        headers=NEXT_SHIFT,
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"


async def test_repeat_call_about_an_open_case_chases_it(casework, bus, helpers):
    h = helpers
    recorded = h.ticket("complaint", complaint_subtype="business", description="电费多收")
    await bus.publish(recorded)
    cid = (await h.case_of(casework, recorded.ticket_id))["id"]
    await bus.publish(
        h.ticket(
            "consultation",
            ticket_id="tk-chase-1",
            description="再次来电询问投诉处理进度",
            linked_ticket_id=recorded.ticket_id,
        )
    )

    async def chased():
        view = (await casework.get(f"/cases/{cid}", headers=h.SUPERVISOR)).json()
        return view if view["history"][-1]["action"] == "chase" else None

    view = await h.eventually(chased, timeout=60)
    assert "tk-chase-1" in view["history"][-1]["note"]
    events = await bus.case_events(cid, at_least=2)
    assert events[-1].type == "brightline.casework.case.chased.v1"
    assert events[-1].data["by_ticket_id"] == "tk-chase-1"
