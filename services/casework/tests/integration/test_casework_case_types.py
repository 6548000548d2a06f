"""Which tickets become cases, departments as data, and the first-ask owner answering at once."""

import pytest

pytestmark = pytest.mark.integration


async def test_case_types_and_departments(casework, bus, helpers):
    h = helpers
    repair = h.ticket("repair", description="停电")
    suggestion = h.ticket("suggestion", description="建议增加夜间营业时间")
    praise = h.ticket("praise", description="表扬抢修班")
    opinion = h.ticket("opinion", description="对电价调整有意见")
    await bus.publish(repair, suggestion, praise, opinion)
    for recorded in (suggestion, praise, opinion):
        case = await h.case_of(casework, recorded.ticket_id)
        assert case["case_type"] == recorded.ticket_type and case["status"] == "opened"
    # The repair ticket, published first on the same key order, opened no case.
    assert (
        await casework.get("/cases", params={"ticket_id": repair.ticket_id}, headers=h.SUPERVISOR)
    ).json() == []

    # Praise: the first-ask owner thanks the customer at once, no department needed.
    praise_case = await h.case_of(casework, praise.ticket_id)
    thanked = await casework.post(
        f"/cases/{praise_case['id']}/answer",
        json={"text": "感谢您的表扬，我们会转达。"},
        headers=h.AGENT,
    )
    assert thanked.status_code == 200 and thanked.json()["status"] == "answered"

    # Departments are data: unknown or not handling this type -> 422 naming why.
    suggestion_case = await h.case_of(casework, suggestion.ticket_id)
    unknown = await casework.post(
        f"/cases/{suggestion_case['id']}/transfer",
        json={"department_id": "dept-nope"},
        headers=h.AGENT,
    )
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-department")
    wrong = await casework.post(
        f"/cases/{suggestion_case['id']}/transfer",
        json={"department_id": "dept-grid"},
        headers=h.AGENT,
    )
    assert wrong.status_code == 422 and "does not handle suggestion" in wrong.json()["detail"]
    # The integration API adds suggestions to the grid department; now the transfer goes through.
    updated = await casework.put(
        "/departments/dept-grid",
        json={"name": "运检部", "case_types": ["complaint", "report", "suggestion"]},
        headers=h.INTEGRATION,
    )
    assert updated.status_code == 200 and updated.json()["updated_by"] == "hr-system"
    assert (
        await casework.put(
            "/departments/x", json={"name": "x", "case_types": ["complaint"]}, headers=h.AGENT
        )
    ).status_code == 403
    moved = await casework.post(
        f"/cases/{suggestion_case['id']}/transfer",
        json={"department_id": "dept-grid"},
        headers=h.AGENT,
    )
    assert moved.status_code == 200 and moved.json()["department_id"] == "dept-grid"
    listed = (await casework.get("/cases", headers=h.OTHER_CASEWORKER)).json()
    assert [c["id"] for c in listed] == [
        suggestion_case["id"]
    ]  # caseworkers see their department's cases


async def test_a_queue_reads_the_longest_waiting_cases_first(casework, bus, helpers):
    """`oldest_first` (the supervisor desk's queue of cases waiting for a department): the
    longest waiting come first, so a page that cannot hold them all leaves out the newest."""
    h = helpers
    tickets = [h.ticket("opinion", description=f"意见 {n}") for n in range(3)]
    await bus.publish(*tickets)
    ids = [(await h.case_of(casework, t.ticket_id))["id"] for t in tickets]
    params = {"status": "opened", "case_type": "opinion"}
    oldest = (
        await casework.get(
            "/cases", params={**params, "oldest_first": "true"}, headers=h.SUPERVISOR
        )
    ).json()
    newest = (await casework.get("/cases", params=params, headers=h.SUPERVISOR)).json()
    opened = [c["opened_at"] for c in oldest]
    assert opened == sorted(opened) and set(ids) <= {c["id"] for c in oldest}
    assert [c["opened_at"] for c in newest] == sorted(opened, reverse=True)
