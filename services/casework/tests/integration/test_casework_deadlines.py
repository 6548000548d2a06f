"""Deadlines learnt from the SLA monitor's events: the due time shows on the case, a warning
becomes a reminder (催办) for the department, a breach an escalation to the supervisor. And
casework's own first-ask transfer limit counts working days across a 调休 make-up weekend."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from brightline.contracts.events.sla import DeadlineBreachedV1, DeadlineOpenedV1, DeadlineWarnedV1

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_warning_reminds_the_department_and_breach_escalates_to_the_supervisor(
    casework, bus, helpers
):
    h = helpers
    recorded = h.ticket("complaint", complaint_subtype="outage", complaint_grade="major")
    await bus.publish(recorded)
    cid = (await h.case_of(casework, recorded.ticket_id))["id"]
    await casework.post(
        f"/cases/{cid}/transfer", json={"department_id": "dept-marketing"}, headers=h.AGENT
    )

    opened = datetime.now(UTC)
    due = opened + timedelta(days=5)
    fact = {
        "deadline_id": f"dl-{uuid.uuid4().hex[:8]}",
        "limit_key": "complaint.reply",
        "policy_pack": "seed",
        "subject_type": "case",
        "subject_id": cid,
        "ticket_id": recorded.ticket_id,
        "due_at": due,
    }
    await bus.publish(
        DeadlineOpenedV1(**fact, opened_at=opened, warn_at=opened + timedelta(days=4))
    )

    async def due_shown():
        view = (await casework.get(f"/cases/{cid}", headers=h.CASEWORKER)).json()
        # The deadline as the SLA monitor opened it, not only a due time of the case's own.
        return view if view["reply_due"] and view["deadlines"] else None

    view = await h.eventually(due_shown, timeout=60)
    assert datetime.fromisoformat(view["reply_due"]) == due
    # The department's queue (the statuses it moves a case from, asked at once) has the same
    # due time on each case of the list; another department's caseworker does not see it.
    held = [("status", "transferred"), ("status", "accepted"), ("status", "investigating")]
    queue = (await casework.get("/cases", params=held, headers=h.CASEWORKER)).json()
    assert [datetime.fromisoformat(c["reply_due"]) for c in queue if c["id"] == cid] == [due]
    accepted = (
        await casework.get("/cases", params={"status": "accepted"}, headers=h.CASEWORKER)
    ).json()
    assert cid not in {c["id"] for c in accepted}
    elsewhere = (await casework.get("/cases", params=held, headers=h.OTHER_CASEWORKER)).json()
    assert cid not in {c["id"] for c in elsewhere}
    assert (
        view["deadlines"][0]["limit_key"] == "complaint.reply"
        and view["deadlines"][0]["policy_pack"] == "seed"
    )

    await bus.publish(
        DeadlineWarnedV1(**fact, warned_at=opened + timedelta(days=4), notify=["department"])
    )

    async def reminded():
        rows = (
            await casework.get("/departments/dept-marketing/reminders", headers=h.CASEWORKER)
        ).json()
        return [r for r in rows if r["case_id"] == cid]

    reminder = (await h.eventually(reminded, timeout=60))[0]
    assert (
        reminder["limit_key"] == "complaint.reply" and reminder["department_id"] == "dept-marketing"
    )
    assert datetime.fromisoformat(reminder["due_at"]) == due
    # Other departments do not see the marketing department's reminders.
    assert (
        await casework.get("/departments/dept-marketing/reminders", headers=h.OTHER_CASEWORKER)
    ).status_code == 403
    # No escalation yet.
    assert cid not in {
        e["case_id"] for e in (await casework.get("/escalations", headers=h.SUPERVISOR)).json()
    }

    breach = DeadlineBreachedV1(**fact, breached_at=due, notify=["supervisor"])
    await bus.publish(breach, breach)  # a redelivered breach escalates once

    async def escalated():
        rows = (await casework.get("/escalations", headers=h.SUPERVISOR)).json()
        return [r for r in rows if r["case_id"] == cid]

    escalation = (await h.eventually(escalated, timeout=60))[0]
    assert escalation["level"] == "breach" and escalation["department_id"] == "dept-marketing"
    assert (await casework.get("/escalations", headers=h.AGENT)).status_code == 403

    events = await bus.case_events(cid, at_least=4)
    types = [e.type for e in events]
    assert types.count("brightline.casework.case.reminded.v1") == 1
    assert types.count("brightline.casework.case.escalated.v1") == 1
    view = (await casework.get(f"/cases/{cid}", headers=h.SUPERVISOR)).json()
    assert [s["action"] for s in view["history"]] == ["open", "transfer", "remind", "escalate"]
    assert len(view["escalations"]) == 1 and len(view["reminders"]) == 1
    assert view["deadlines"][0]["state"] == "breached"
    assert datetime.fromisoformat(view["reply_due"]) == due  # overdue, still the date to meet


@pytest.mark.parametrize(
    ("recorded_at", "transfer_due"),
    [
        # Friday 2024-05-10: the next working day is the make-up Saturday 2024-05-11 (调休 for Labour Day).
        (
            datetime(2024, 5, 10, 10, 0, tzinfo=SHANGHAI),
            datetime(2024, 5, 11, 10, 0, tzinfo=SHANGHAI),
        ),
        # Friday 2024-02-09, eve of the Spring Festival holiday (02-10..02-17): skips it and lands on
        # the make-up Sunday 2024-02-18.
        (
            datetime(2024, 2, 9, 16, 30, tzinfo=SHANGHAI),
            datetime(2024, 2, 18, 16, 30, tzinfo=SHANGHAI),
        ),
    ],
)
async def test_transfer_deadline_counts_working_days_across_a_make_up_weekend(
    casework, bus, helpers, recorded_at, transfer_due
):
    # An opinion: its transfer is the first-ask `case.transfer` (1 working day) of the pack in
    # force. A complaint's is `complaint.transfer`, counted in hours (立即), tested below.
    recorded = helpers.ticket("opinion", recorded_at=recorded_at.astimezone(UTC))
    await bus.publish(recorded)
    case = await helpers.case_of(casework, recorded.ticket_id)
    assert datetime.fromisoformat(case["transfer_due"]) == transfer_due


async def test_a_complaint_is_passed_on_at_once_its_transfer_counted_in_hours(
    casework, bus, helpers
):
    # Friday 2024-05-10 10:00 + complaint.transfer (1 hour in the seed pack) = 11:00 the same day.
    recorded_at = datetime(2024, 5, 10, 10, 0, tzinfo=SHANGHAI)
    recorded = helpers.ticket(
        "complaint",
        complaint_subtype="service",
        complaint_grade="general",
        recorded_at=recorded_at.astimezone(UTC),
    )
    await bus.publish(recorded)
    case = await helpers.case_of(casework, recorded.ticket_id)
    assert datetime.fromisoformat(case["transfer_due"]) == datetime(
        2024, 5, 10, 11, 0, tzinfo=SHANGHAI
    )
