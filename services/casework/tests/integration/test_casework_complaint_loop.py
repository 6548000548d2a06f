"""The whole complaint loop over the real broker and database: intake's ticket becomes a case,
goes to the department, is accepted, investigated, replied to and answered; every step is an
event on casework.cases and a history entry with actor and time."""

import pytest

from brightline.contracts.events.callback import ReopenRequestedV1

pytestmark = pytest.mark.integration


async def test_complaint_from_ticket_to_answered(casework, bus, helpers):
    h = helpers
    recorded = h.ticket(
        "complaint",
        complaint_subtype="business",
        complaint_grade="important",
        description="电费账单金额异常，多收了钱",
    )
    await bus.publish(recorded)
    case = await h.case_of(casework, recorded.ticket_id, headers=h.AGENT)
    assert case["case_type"] == "complaint" and case["status"] == "opened"
    assert case["complaint_subtype"] == "business" and case["complaint_grade"] == "important"
    assert case["first_ask_owner"] == "agent-7"
    assert case["transfer_due"] is not None
    assert "13800138000" not in str(case) and "张三" not in str(case)
    cid = case["id"]

    # The first-ask owner transfers it to the responsible department.
    moved = await casework.post(
        f"/cases/{cid}/transfer",
        json={"department_id": "dept-marketing", "note": "电费问题"},
        headers=h.AGENT,
    )
    assert moved.status_code == 200, moved.text
    assert (
        moved.json()["status"] == "transferred"
        and moved.json()["department_id"] == "dept-marketing"
    )

    # Another department cannot accept it; the handling one does.
    assert (
        await casework.post(f"/cases/{cid}/accept", headers=h.OTHER_CASEWORKER)
    ).status_code == 404
    accepted = await casework.post(f"/cases/{cid}/accept", headers=h.CASEWORKER)
    assert accepted.json()["status"] == "accepted"
    again = await casework.post(f"/cases/{cid}/accept", headers=h.CASEWORKER)
    assert again.status_code == 409 and again.json()["type"].endswith("/illegal-transition")

    investigating = await casework.post(
        f"/cases/{cid}/investigation", json={"note": "核查抄表记录"}, headers=h.CASEWORKER
    )
    assert investigating.json()["status"] == "investigating"

    # A reply with a forbidden service phrase is refused, naming the phrase, and nothing is written.
    rude = await casework.post(
        f"/cases/{cid}/reply", json={"text": "这个不归我们管，找别人"}, headers=h.CASEWORKER
    )
    assert rude.status_code == 422
    assert rude.headers["content-type"] == "application/problem+json"
    assert rude.json()["type"].endswith("/forbidden-phrase")
    assert "不归我们管" in rude.json()["phrases"]
    assert (await casework.get(f"/cases/{cid}", headers=h.SUPERVISOR)).json()[
        "status"
    ] == "investigating"

    replied = await casework.post(
        f"/cases/{cid}/reply",
        json={"text": "经核查为抄表错误，已退还多收电费。"},
        headers=h.CASEWORKER,
    )
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "replied"

    # Only the first-ask owner, the department or a supervisor answers the customer.
    assert (
        await casework.post(f"/cases/{cid}/answer", json={"text": "您好"}, headers=h.OTHER_AGENT)
    ).status_code == 403
    answered = await casework.post(
        f"/cases/{cid}/answer",
        json={"text": "您好，已为您退还多收的电费，感谢您的监督。"},
        headers=h.AGENT,
    )
    assert answered.status_code == 200, answered.text
    view = answered.json()
    assert view["status"] == "answered"
    assert [(s["action"], s["actor"]) for s in view["history"]] == [
        ("open", "agent-7"),
        ("transfer", "agent-7"),
        ("accept", "cw-1"),
        ("investigate", "cw-1"),
        ("reply", "cw-1"),
        ("answer", "agent-7"),
    ]
    assert all(s["at"] for s in view["history"])

    events = await bus.case_events(cid, at_least=6)
    assert events[0].type == "brightline.casework.case.opened.v1"
    assert [e.data.get("status") for e in events[1:]] == [
        "transferred",
        "accepted",
        "investigating",
        "replied",
        "answered",
    ]
    answered_event = events[-1].data
    assert answered_event["previous_status"] == "replied" and answered_event["actor"] == "agent-7"
    assert answered_event["ticket_id"] == recorded.ticket_id
    assert all("13800138000" not in str(e.data) and "张三" not in str(e.data) for e in events)


async def test_a_reply_that_does_not_do_goes_back_to_the_department(casework, bus, helpers):
    """审核: the first-ask owner reads the department's reply before answering the customer and
    sends back one that does not answer what the customer asked (退回重办): the department
    investigates again with the reason before it, and replies anew."""
    h = helpers
    recorded = h.ticket("complaint", complaint_subtype="business", complaint_grade="general")
    await bus.publish(recorded)
    cid = (await h.case_of(casework, recorded.ticket_id, headers=h.AGENT))["id"]
    await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-marketing"}, headers=h.AGENT
    )
    await casework.post(f"/cases/{cid}/accept", headers=h.CASEWORKER)
    # Nothing to send back before the department replied.
    early = await casework.post(
        f"/cases/{cid}/send-back", json={"reason": "未答复"}, headers=h.AGENT
    )
    assert early.status_code == 409 and early.json()["allowed_from"] == ["replied"]
    await casework.post(f"/cases/{cid}/reply", json={"text": "已处理。"}, headers=h.CASEWORKER)

    reason = "答复未说明多收电费是否退还"
    # Not the owner's, not the department's to send back; an empty reason is refused.
    assert (
        await casework.post(
            f"/cases/{cid}/send-back", json={"reason": reason}, headers=h.OTHER_AGENT
        )
    ).status_code == 403
    assert (
        await casework.post(
            f"/cases/{cid}/send-back", json={"reason": reason}, headers=h.CASEWORKER
        )
    ).status_code == 403
    blank = await casework.post(f"/cases/{cid}/send-back", json={"reason": ""}, headers=h.AGENT)
    assert blank.status_code == 422 and "reason" in blank.text

    sent = await casework.post(f"/cases/{cid}/send-back", json={"reason": reason}, headers=h.AGENT)
    assert sent.status_code == 200, sent.text
    view = sent.json()
    assert view["status"] == "investigating" and view["reply_text"] is None
    assert (view["history"][-1]["action"], view["history"][-1]["note"]) == ("send_back", reason)
    # Back in the department's queue; the reply given is withdrawn, not answerable.
    held = await casework.get("/cases", params={"status": "investigating"}, headers=h.CASEWORKER)
    assert [c["sent_back"] for c in held.json() if c["id"] == cid] == [True]
    assert view["sent_back"] is True
    assert (
        await casework.post(f"/cases/{cid}/answer", json={"text": "您好"}, headers=h.AGENT)
    ).status_code == 409

    again = await casework.post(
        f"/cases/{cid}/reply",
        json={"text": "经核查为抄表错误，多收电费已于本月退还。"},
        headers=h.CASEWORKER,
    )
    assert again.json()["status"] == "replied" and again.json()["sent_back"] is False
    events = await bus.case_events(cid, at_least=6)
    moves = [(e.data["status"], e.data["reply_round"]) for e in events[1:]]
    assert moves == [
        ("transferred", 0),
        ("accepted", 0),
        ("replied", 1),
        ("investigating", 1),
        ("replied", 2),
    ]
    assert events[-2].data["note"] == reason and events[-2].data["previous_status"] == "replied"


async def test_a_case_that_is_not_the_departments_goes_back_to_the_centre(casework, bus, helpers):
    """回退: the department finds the case is not its own and knows no department to pass it to.
    It returns it to the centre with why; no department holds it, the duty supervisor sees it
    waiting with the reason and a transfer limit counted again from the return, and transfers
    it anew. The customer's reply limit is not reset: only the transfer is owed again."""
    h = helpers
    recorded = h.ticket("complaint", complaint_subtype="business", complaint_grade="general")
    await bus.publish(recorded)
    cid = (await h.case_of(casework, recorded.ticket_id, headers=h.AGENT))["id"]
    first = await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-marketing"}, headers=h.AGENT
    )
    first_due = first.json()["transfer_due"]
    await casework.post(f"/cases/{cid}/accept", headers=h.CASEWORKER)

    reason = "反映的是线路施工问题，不属营销部承办"
    # Only the department holding it (or a supervisor) returns it; a reason is required.
    for other in (h.AGENT, h.OTHER_CASEWORKER):
        refused = await casework.post(
            f"/cases/{cid}/return", json={"reason": reason}, headers=other
        )
        assert refused.status_code in (403, 404), refused.text
    blank = await casework.post(f"/cases/{cid}/return", json={"reason": ""}, headers=h.CASEWORKER)
    assert blank.status_code == 422 and "reason" in blank.text

    returned = await casework.post(
        f"/cases/{cid}/return", json={"reason": reason}, headers=h.CASEWORKER
    )
    assert returned.status_code == 200, returned.text
    view = returned.json()
    assert view["status"] == "opened" and view["department_id"] is None
    assert view["returned"]["department_id"] == "dept-marketing"
    assert view["returned"]["reason"] == reason and view["returned"]["actor"] == "cw-1"
    assert view["transfer_due"] > first_due  # counted again from the return
    assert (view["history"][-1]["action"], view["history"][-1]["note"]) == ("return", reason)
    # Out of the department's queue; on the centre's, with why.
    mine = await casework.get("/cases", params={"status": "accepted"}, headers=h.CASEWORKER)
    assert cid not in [c["id"] for c in mine.json()]
    waiting = await casework.get(
        "/cases", params={"status": ["opened", "reopened"]}, headers=h.SUPERVISOR
    )
    [summary] = [c for c in waiting.json() if c["id"] == cid]
    assert summary["returned"]["reason"] == reason
    # No longer the department's: not even to see.
    late = await casework.post(
        f"/cases/{cid}/reply", json={"text": "已处理。"}, headers=h.CASEWORKER
    )
    assert late.status_code == 404

    again = await casework.post(
        f"/cases/{cid}/transfer",
        json={"department_id": "dept-grid", "note": "线路施工由运检部承办"},
        headers=h.SUPERVISOR,
    )
    assert again.status_code == 200, again.text
    assert again.json()["department_id"] == "dept-grid" and again.json()["returned"] is None
    events = await bus.case_events(cid, at_least=5)
    moves = [
        (e.data["status"], e.data["department_id"], e.data["transfer_round"]) for e in events[1:]
    ]
    assert moves == [
        ("transferred", "dept-marketing", 0),
        ("accepted", "dept-marketing", 0),
        ("opened", "dept-marketing", 1),  # the department that returned it
        ("transferred", "dept-grid", 1),
    ]
    assert events[3].data["note"] == reason and events[3].data["previous_status"] == "accepted"


async def test_unsatisfied_callback_reopens_the_case_keeping_its_history(casework, bus, helpers):
    h = helpers
    recorded = h.ticket("complaint", complaint_subtype="service", complaint_grade="general")
    await bus.publish(recorded)
    cid = (await h.case_of(casework, recorded.ticket_id))["id"]
    await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-marketing"}, headers=h.SUPERVISOR
    )
    await casework.post(f"/cases/{cid}/accept", headers=h.CASEWORKER)
    await casework.post(
        f"/cases/{cid}/reply", json={"text": "已对工作人员进行批评教育。"}, headers=h.CASEWORKER
    )
    answered = await casework.post(
        f"/cases/{cid}/answer", json={"text": "感谢您的反映，已处理。"}, headers=h.CASEWORKER
    )
    assert answered.json()["status"] == "answered"

    # Callback found the customer unsatisfied; an event for another service's ticket is ignored.
    from datetime import UTC, datetime

    await bus.publish(
        ReopenRequestedV1(
            ticket_id="tk-of-intake",
            task_id="cb-0",
            origin="intake",
            reason="unsatisfied",
            requested_at=datetime.now(UTC),
        ),
        ReopenRequestedV1(
            ticket_id=recorded.ticket_id,
            task_id="cb-1",
            origin="casework",
            reason="unsatisfied",
            customer_words="根本没人联系我",
            requested_at=datetime.now(UTC),
        ),
    )

    async def reopened():
        view = (await casework.get(f"/cases/{cid}", headers=h.SUPERVISOR)).json()
        return view if view["status"] == "reopened" else None

    view = await h.eventually(reopened, timeout=60)
    assert view["reopen_count"] == 1
    actions = [s["action"] for s in view["history"]]
    assert actions == ["open", "transfer", "accept", "reply", "answer", "reopen"]
    assert (
        view["history"][-1]["actor"] == "callback"
        and "根本没人联系我" in view["history"][-1]["note"]
    )
    assert (
        view["reply_text"] == "已对工作人员进行批评教育。"
    )  # what was done before stays on record

    # The reopened case goes round the loop again.
    again = await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-grid"}, headers=h.SUPERVISOR
    )
    assert again.json()["status"] == "transferred" and again.json()["department_id"] == "dept-grid"

    events = await bus.case_events(cid, at_least=7)
    statuses = [e.data.get("status") for e in events if e.type.endswith("status-changed.v1")]
    assert statuses[-2:] == ["reopened", "transferred"]
    assert events[-2].data["previous_status"] == "answered"
