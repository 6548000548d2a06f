"""From the agent desktop's backend (the console), every service its own process: a call solved
without a ticket (paid service) and a consultation answered on the call are both recorded and
closed at intake, and each is due a callback; the callback rate counts both, and only the
customer reached is called back (issue 15 points 4, 5 and the callback-rate rule)."""

from datetime import datetime

import pytest

from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually

pytestmark = pytest.mark.e2e

AGENT = bearer(Role.AGENT, subject="agent-1001", staff_no="1001", unit_id="unit-desk")
CALLBACK_AGENT = bearer(Role.AGENT, subject="agent-1002", staff_no="1002")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
WAIT = 90


async def test_desktop_closes_no_ticket_calls_and_consultations_and_both_are_called_back(
    stack, report
):
    console, callback = stack.url("console"), stack.url("callback")
    async with stack.http() as http:
        paid = await http.post(
            f"{console}/api/call-outcomes",
            json={
                "outcome": "paid_service_referral",
                "description": "家中插座冒烟跳闸，表后线路故障",
                "caller_name": "张三",
                "phone": "13800138011",
                "address": "文三路1号",
                "fault_scope": "own_home",
            },
            headers=AGENT,
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["ticket"]["status"] == "completed"
        assert "按省级价格主管部门核定标准收费" in paid.json()["say"]

        asked = await http.post(
            f"{console}/api/tickets",
            json={
                "ticket_type": "consultation",
                "description": "峰谷电价怎么算",
                "caller_name": "李四",
                "phone": "13800138012",
            },
            headers=AGENT,
        )
        assert asked.status_code == 201, asked.text
        rude = await http.post(
            f"{console}/api/tickets/{asked.json()['id']}/complete",
            json={"reply": "你自己看着办"},
            headers=AGENT,
        )
        assert rude.status_code == 422, rude.text
        done = await http.post(
            f"{console}/api/tickets/{asked.json()['id']}/complete",
            json={"reply": "峰时段为8:00至22:00，已为您详细说明。"},
            headers=AGENT,
        )
        assert done.status_code == 200, done.text
        assert done.json()["details"]["answer"] == "峰时段为8:00至22:00，已为您详细说明。"

        async def rates():
            rows = (
                await http.get(
                    f"{callback}/callback-rates",
                    params={"unit_id": "unit-desk"},
                    headers=SUPERVISOR,
                )
            ).json()
            return rows if rows and rows[0]["finished"] == 2 else None

        [row] = await eventually(rates, timeout=WAIT)
        assert (row["ticket_type"], row["called_back"]) == ("consultation", 0)

        # One customer picks up; the other does not (one attempt; the task waits to be retried).
        async def next_task():
            r = await http.post(f"{callback}/callback-tasks/next", headers=CALLBACK_AGENT)
            return r.json() if r.status_code == 200 else None

        for _ in range(2):
            held = await eventually(next_task, timeout=WAIT)
            reached = held["task"]["ticket_id"] == paid.json()["ticket"]["id"]
            r = await http.post(
                f"{callback}/callback-tasks/{held['task']['id']}/outcome",
                json={"outcome": "satisfied" if reached else "unreachable"},
                headers=CALLBACK_AGENT,
            )
            assert r.status_code == 200, r.text
        [row] = (
            await http.get(
                f"{callback}/callback-rates", params={"unit_id": "unit-desk"}, headers=SUPERVISOR
            )
        ).json()
        report(
            f"desktop callbacks: finished {row['finished']}, reached {row['called_back']}, "
            f"attempted not reached {row['attempted_unreached']}, rate {row['callback_rate']:.0%}"
        )
        assert (row["finished"], row["called_back"]) == (2, 1)


async def test_desktop_has_the_complaint_reply_date_before_the_caller_hangs_up(stack):
    """Issue 15 c: the date comes with the recorded ticket (intake counts it from the pack in
    force), so the desk has it at once, without waiting for the SLA monitor's deadline."""
    console = stack.url("console")
    async with stack.http() as http:
        made = await http.post(
            f"{console}/api/tickets",
            json={
                "ticket_type": "complaint",
                "description": "抄表员上门态度恶劣",
                "caller_name": "王五",
                "phone": "13800138013",
                "complaint_subtype": "service",
            },
            headers=AGENT,
        )
        assert made.status_code == 201, made.text
        ticket = made.json()
        promised = ticket["reply_promise"]
        assert promised["limit_key"] == "complaint.reply" and promised["due_at"]
        # Asked once, right away: no polling.
        r = await http.get(
            f"{console}/api/desk/tickets/{ticket['id']}/reply-promise", headers=AGENT
        )
        assert r.status_code == 200, r.text
        assert (r.json()["limit_key"], r.json()["policy"]) == (
            "complaint.reply",
            promised["policy_pack"],
        )
        assert datetime.fromisoformat(r.json()["due_at"]) == datetime.fromisoformat(
            promised["due_at"]
        )
        closing = await http.get(
            f"{console}/api/closing", params={"ticket_id": ticket["id"]}, headers=AGENT
        )
        assert closing.status_code == 200, closing.text
        assert f"{promised['amount']}天内" in closing.json()["closing"]
