"""Reports (举报) are confidential, one test per role: who sees the reporter's identity, that
every read is audited, that the staff member named never sees the report, anonymous reports."""

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
async def report(casework, bus, helpers):
    """A report naming staff member 李四, transferred to the marketing department."""
    recorded = helpers.ticket(
        "report",
        description="营业厅工作人员李四收受红包",
        reported_party="李四",
        caller_name="举报人甲",
        phone="13900000001",
        address="YY路2号",
    )
    await bus.publish(recorded)
    case = await helpers.case_of(casework, recorded.ticket_id, headers=helpers.SUPERVISOR)
    moved = await casework.post(
        f"/cases/{case['id']}/transfer",
        json={"department_id": "dept-marketing"},
        headers=helpers.SUPERVISOR,
    )
    assert moved.status_code == 200, moved.text
    return moved.json()


async def audit(casework, helpers, case_id):
    response = await casework.get(
        "/audit/confidential-reads", params={"case_id": case_id}, headers=helpers.SUPERVISOR
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_supervisor_sees_the_reporter_and_the_read_is_audited(casework, helpers, report, bus):
    assert report["confidential"] is True
    assert "举报人甲" not in str(report) and "13900000001" not in str(report)
    contact = await casework.get(f"/cases/{report['id']}/contact", headers=helpers.SUPERVISOR)
    assert contact.status_code == 200, contact.text
    assert contact.json() | {} == {
        "case_id": report["id"],
        "anonymous": False,
        "caller_name": "举报人甲",
        "phone": "13900000001",
        "address": "YY路2号",
        "customer_id": None,
    }
    rows = await audit(casework, helpers, report["id"])
    assert [(r["reader"], r["granted"]) for r in rows] == [("sup-1", True)]
    # Named by the ticket too: what an auditor looks a read up by.
    assert (rows[0]["ticket_id"], rows[0]["ticket_no"], rows[0]["case_type"]) == (
        report["ticket_id"],
        report["ticket_no"],
        "report",
    )
    assert (
        set(rows[0]["fields"]) == {"caller_name", "phone", "address", "customer_id"}
        and rows[0]["at"]
    )
    # Only supervisors list the audit.
    assert (
        await casework.get("/audit/confidential-reads", headers=helpers.AGENT)
    ).status_code == 403
    # The events about the report carry no identity.
    events = await bus.case_events(report["id"], at_least=2)
    assert all(
        "举报人甲" not in str(e.data)
        and "13900000001" not in str(e.data)
        and "李四" not in str(e.data)
        for e in events
    )


async def test_handling_department_caseworker_sees_the_reporter_other_departments_do_not(
    casework, helpers, report
):
    mine = await casework.get(f"/cases/{report['id']}/contact", headers=helpers.CASEWORKER)
    assert mine.status_code == 200 and mine.json()["phone"] == "13900000001"
    other = await casework.get(f"/cases/{report['id']}/contact", headers=helpers.OTHER_CASEWORKER)
    assert other.status_code == 404
    assert (
        await casework.get(f"/cases/{report['id']}", headers=helpers.OTHER_CASEWORKER)
    ).status_code == 404
    rows = await audit(casework, helpers, report["id"])
    assert {(r["reader"], r["granted"]) for r in rows} == {("cw-1", True), ("cw-9", False)}


async def test_a_department_that_returned_a_report_no_longer_reads_its_reporter(
    casework, helpers, report
):
    """回退: once the handling department hands the report back to the centre it is no longer
    the handling department: the reporter's contact and the case itself are closed to it."""
    assert (
        await casework.get(f"/cases/{report['id']}/contact", headers=helpers.CASEWORKER)
    ).status_code == 200
    returned = await casework.post(
        f"/cases/{report['id']}/return",
        json={"reason": "被举报人不属本部门管辖"},
        headers=helpers.CASEWORKER,
    )
    assert returned.status_code == 200, returned.text
    after = await casework.get(f"/cases/{report['id']}/contact", headers=helpers.CASEWORKER)
    assert after.status_code == 404 and "13900000001" not in after.text
    rows = await audit(casework, helpers, report["id"])
    assert [(r["reader"], r["granted"]) for r in rows][:2] == [("cw-1", False), ("cw-1", True)]


async def test_agent_sees_the_case_but_never_the_reporter(casework, helpers, report):
    case = await casework.get(f"/cases/{report['id']}", headers=helpers.AGENT)
    assert case.status_code == 200
    assert (
        case.json()["reported_party"] is None
    )  # the accused's name is for the allowed readers too
    refused = await casework.get(f"/cases/{report['id']}/contact", headers=helpers.AGENT)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/confidential")
    assert "13900000001" not in refused.text
    rows = await audit(casework, helpers, report["id"])
    assert [(r["reader"], r["granted"]) for r in rows] == [("agent-7", False)]


async def test_crew_has_no_access_at_all(casework, helpers, report):
    assert (await casework.get(f"/cases/{report['id']}", headers=helpers.CREW)).status_code == 403
    assert (
        await casework.get(f"/cases/{report['id']}/contact", headers=helpers.CREW)
    ).status_code == 403


async def test_named_staff_member_never_sees_the_report(casework, helpers, report):
    # 李四 works in the very department handling the report, and still gets nothing.
    named = helpers.NAMED_STAFF
    assert (await casework.get(f"/cases/{report['id']}", headers=named)).status_code == 404
    assert (await casework.get(f"/cases/{report['id']}/contact", headers=named)).status_code == 404
    assert (await casework.post(f"/cases/{report['id']}/accept", headers=named)).status_code == 404
    listed = await casework.get("/cases", params={"case_type": "report"}, headers=named)
    assert report["id"] not in {c["id"] for c in listed.json()}
    listed = await casework.get("/cases", params={"ticket_id": report["ticket_id"]}, headers=named)
    assert listed.json() == []
    # A colleague of the same department does see it; the attempt by the named one is audited.
    assert (
        await casework.get(f"/cases/{report['id']}", headers=helpers.CASEWORKER)
    ).status_code == 200
    rows = await audit(casework, helpers, report["id"])
    assert [(r["reader"], r["granted"]) for r in rows] == [("cw-2", False)]
    # The supervisor sees whom the report names.
    assert (await casework.get(f"/cases/{report['id']}", headers=helpers.SUPERVISOR)).json()[
        "reported_party"
    ] == "李四"


async def test_anonymous_report_is_accepted_and_holds_no_identity(casework, bus, helpers):
    recorded = helpers.ticket(
        "report", description="有人窃电", anonymous=True, caller_name=None, phone=None, address=None
    )
    await bus.publish(recorded)
    case = await helpers.case_of(casework, recorded.ticket_id)
    assert case["anonymous"] is True and case["status"] == "opened"
    contact = await casework.get(f"/cases/{case['id']}/contact", headers=helpers.SUPERVISOR)
    assert contact.status_code == 200
    assert contact.json() == {
        "case_id": case["id"],
        "anonymous": True,
        "caller_name": None,
        "phone": None,
        "address": None,
        "customer_id": None,
    }
    # Even if the agent typed a phone number for an anonymous report, casework drops it.
    typed = helpers.ticket("report", description="有人窃电", anonymous=True, phone="13700000000")
    await bus.publish(typed)
    second = await helpers.case_of(casework, typed.ticket_id)
    contact = await casework.get(f"/cases/{second['id']}/contact", headers=helpers.SUPERVISOR)
    assert contact.json()["phone"] is None and contact.json()["anonymous"] is True
