"""Every ticket closes its loop (issue 15), with every service its own process, public APIs only.

A complaint recorded by the day shift is handed over at shift change; the night shift's agent,
now its first-ask owner in casework too, transfers it and answers the customer. The callback
finds the customer unsatisfied: the case reopens with a new reply deadline from the pack in
force, is answered again, called back satisfied and closed in intake, casework and callback.
"""

from datetime import datetime, timedelta

import pytest

from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually

pytestmark = pytest.mark.e2e

DAY_SHIFT = bearer(Role.AGENT, subject="agent-day", staff_no="1024", unit_id="unit-hz")
NIGHT_SHIFT = bearer(Role.AGENT, subject="agent-night", staff_no="2048", unit_id="unit-hz")
CASEWORKER = bearer(Role.CASEWORKER, subject="cw-1", department_id="dept-marketing")
CALLBACK_AGENT = bearer(Role.AGENT, subject="agent-cb", staff_no="3072")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
INTEGRATION = bearer(Role.INTEGRATION, subject="hr-system")
WAIT = 90


async def test_handed_over_complaint_is_reopened_answered_again_and_closed_everywhere(
    stack, report
):
    intake, casework = stack.url("intake"), stack.url("casework")
    callback = stack.url("callback")
    async with stack.http() as http:
        put = await http.put(
            f"{casework}/departments/dept-marketing",
            json={"name": "营销部", "case_types": ["complaint", "report"]},
            headers=INTEGRATION,
        )
        assert put.status_code == 200, put.text

        # --- the day shift records the complaint --------------------------------------------
        recorded = await http.post(
            f"{intake}/tickets",
            json={
                "ticket_type": "complaint",
                "description": "抄表员态度恶劣，电费多收",
                "caller_name": "孙八",
                "phone": "13300133001",
                "complaint_subtype": "service",
            },
            headers=DAY_SHIFT,
        )
        assert recorded.status_code == 201, recorded.text
        tid = recorded.json()["id"]

        seen: list[dict] = []

        async def case_view(wanted=lambda c: True):
            async def check():
                found = (
                    await http.get(
                        f"{casework}/cases", params={"ticket_id": tid}, headers=SUPERVISOR
                    )
                ).json()
                if not found:
                    return None
                view = (
                    await http.get(f"{casework}/cases/{found[0]['id']}", headers=SUPERVISOR)
                ).json()
                seen[:] = [view]
                return view if wanted(view) else None

            try:
                return await eventually(check, timeout=WAIT)
            except AssertionError as error:
                raise AssertionError(f"case never as wanted; last seen: {seen}") from error

        case = await case_view(
            lambda c: any(d["limit_key"] == "complaint.reply" for d in c["deadlines"])
        )
        cid = case["id"]
        assert case["first_ask_owner"] == "agent-day"

        # --- shift change: ownership follows the handover into casework -------------------
        handed = await http.post(
            f"{intake}/handovers", json={"to_agent": "agent-night"}, headers=DAY_SHIFT
        )
        assert handed.status_code == 201 and handed.json()["ticket_ids"] == [tid], handed.text
        await case_view(lambda c: c["first_ask_owner"] == "agent-night")
        refused = await http.post(
            f"{casework}/cases/{cid}/transfer",
            json={"department_id": "dept-marketing"},
            headers=DAY_SHIFT,
        )
        assert refused.status_code == 403, refused.text

        async def work_round(reply: str, answer: str) -> None:
            moved = await http.post(
                f"{casework}/cases/{cid}/transfer",
                json={"department_id": "dept-marketing", "note": "营业厅服务问题"},
                headers=NIGHT_SHIFT,
            )
            assert moved.status_code == 200, moved.text
            for path, body in (("accept", None), ("reply", {"text": reply})):
                r = await http.post(f"{casework}/cases/{cid}/{path}", json=body, headers=CASEWORKER)
                assert r.status_code == 200, r.text
            answered = await http.post(
                f"{casework}/cases/{cid}/answer", json={"text": answer}, headers=NIGHT_SHIFT
            )
            assert answered.status_code == 200, answered.text

        async def ticket_status(wanted: str) -> dict:
            async def check():
                t = (await http.get(f"{intake}/tickets/{tid}", headers=NIGHT_SHIFT)).json()
                return t if t["status"] == wanted else None

            return await eventually(check, timeout=WAIT)

        async def call_back(outcome: str, **extra) -> dict:
            async def next_task():
                r = await http.post(f"{callback}/callback-tasks/next", headers=CALLBACK_AGENT)
                return r.json() if r.status_code == 200 else None

            held = await eventually(next_task, timeout=WAIT)
            assert held["task"]["ticket_id"] == tid
            script = (
                await http.get(
                    f"{callback}/callback-tasks/{held['task']['id']}/script",
                    headers=CALLBACK_AGENT,
                )
            ).json()
            steps = {s["id"]: s["zh"] for s in script["steps"]}
            assert "3072号" in steps["greeting"] and steps["result"].startswith("处理结果是：")
            r = await http.post(
                f"{callback}/callback-tasks/{held['task']['id']}/outcome",
                json={"outcome": outcome, **extra},
                headers=CALLBACK_AGENT,
            )
            assert r.status_code == 200, r.text
            return r.json()

        # --- first round: answered, called back, unsatisfied -------------------------------
        await work_round("已对抄表员进行批评教育。", "您反映的问题已核实，已对抄表员批评教育。")
        await ticket_status("answered")
        first = await call_back("unsatisfied", reason="多收的电费没退", customer_words="钱没退")
        assert first["status"] == "closed" and first["outcome"] == "unsatisfied"

        # --- reopened, with a new reply deadline from the pack in force ---------------------
        def reopened_with_new_clock(c):
            replies = [d for d in c["deadlines"] if d["limit_key"] == "complaint.reply"]
            return c["status"] == "reopened" and len(replies) == 2 and c["reply_due"]

        case = await case_view(reopened_with_new_clock)
        assert case["reopen_count"] == 1
        replies = sorted(
            (d for d in case["deadlines"] if d["limit_key"] == "complaint.reply"),
            key=lambda d: d["due_at"],
        )
        reopened_at = datetime.fromisoformat(
            next(s["at"] for s in reversed(case["history"]) if s["action"] == "reopen")
        )
        new_due = datetime.fromisoformat(replies[-1]["due_at"])
        assert new_due - reopened_at == timedelta(days=5)  # seed pack: 5 calendar days
        assert datetime.fromisoformat(case["reply_due"]) == new_due
        assert replies[0]["state"] == "met" and replies[-1]["state"] == "open"
        reopened_ticket = await ticket_status("reopened")
        assert reopened_ticket["owner"] == "agent-night"

        # --- second round: answered again, called back satisfied, closed everywhere ---------
        await work_round("已退还多收电费。", "多收的电费已退还到您的账户，请您查收。")
        second = await call_back("satisfied", customer_words="钱退了，谢谢")
        assert second["outcome"] == "satisfied"

        closed = await case_view(lambda c: c["status"] == "closed")
        assert closed["history"][-1]["actor"] == "callback"
        await ticket_status("closed")
        tasks = (
            await http.get(
                f"{callback}/callback-tasks", params={"ticket_id": tid}, headers=SUPERVISOR
            )
        ).json()
        assert sorted(t["outcome"] for t in tasks) == ["satisfied", "unsatisfied"]
        assert all(t["status"] == "closed" for t in tasks)
        open_night = (
            await http.get(f"{intake}/tickets", params={"open": "true"}, headers=NIGHT_SHIFT)
        ).json()
        assert tid not in [t["id"] for t in open_night]
        report(
            "closed loop: case "
            + " → ".join(s["action"] for s in closed["history"])
            + f"; reply deadlines {[(d['due_at'], d['state']) for d in replies]}"
            + f"; callbacks {sorted(t['outcome'] for t in tasks)}"
        )
