"""The complaint and report closing says by when the customer hears back, in the unit the pack in
force counts, computed by intake from the pack when the ticket is recorded (issue 15 point 9 and
c): the POST /tickets response and the closing carry it at once, before the customer hangs up."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from brightline.calendar.working_days import add_working_days
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024")
SH = ZoneInfo("Asia/Shanghai")
COMPLAINT = {
    "ticket_type": "complaint",
    "description": "抄表员态度恶劣",
    "caller_name": "孙八",
    "phone": "13300133000",
    "complaint_subtype": "service",
}


@pytest.fixture
async def client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield client


async def closing_of(client, ticket_id: str) -> dict:
    return (await client.get("/greetings", params={"ticket_id": ticket_id}, headers=AGENT)).json()


async def test_complaint_closing_promises_the_reply_in_the_packs_unit(client, monkeypatch):
    monkeypatch.setenv("BRIGHTLINE_POLICY_PACKS", "seed")
    created = await client.post("/tickets", json=COMPLAINT, headers=AGENT)
    assert created.status_code == 201, created.text
    ticket = created.json()
    recorded = datetime.fromisoformat(ticket["recorded_at"]).astimezone(SH)
    promise = ticket["reply_promise"]
    # seed: complaint.reply = 5 calendar days -> the same clock time, 5 days after recording.
    assert (promise["limit_key"], promise["amount"], promise["unit"]) == (
        "complaint.reply",
        5,
        "calendar_days",
    )
    assert promise["policy_pack"].startswith("seed@") and promise["provisional"] is False
    assert datetime.fromisoformat(promise["due_at"]) == recorded + timedelta(days=5)

    # Read at once, no event awaited: the closing carries it while the call is live.
    g = await closing_of(client, ticket["id"])
    assert "reply_promise_pending" not in g
    assert g["closing"] == (
        "非常感谢您的宝贵意见，我们会尽快向有关部门反映，并在5天内给您明确的答复。"
        "请问还有其他可以帮您的吗？"
    )
    assert g["goodbye"] == "祝您生活愉快，再见！"
    assert "客户先挂断" in g["closing_reminder"]


async def test_a_pack_counting_working_days_is_said_in_working_days(client, monkeypatch):
    # jiangsu-2021 (in force from 2021): complaint.reply 4 working days, report.reply 9.
    monkeypatch.setenv("BRIGHTLINE_POLICY_PACKS", "seed,jiangsu-2021")
    ticket = (await client.post("/tickets", json=COMPLAINT, headers=AGENT)).json()
    promise = ticket["reply_promise"]
    assert promise["policy_pack"].startswith("jiangsu-2021@")
    assert (promise["amount"], promise["unit"]) == (4, "working_days")
    recorded = datetime.fromisoformat(ticket["recorded_at"]).astimezone(SH)
    assert datetime.fromisoformat(promise["due_at"]) == add_working_days(recorded, 4, SH)
    assert "4个工作日内" in (await closing_of(client, ticket["id"]))["closing"]

    report = {**COMPLAINT, "ticket_type": "report", "description": "有人窃电"}
    report.pop("complaint_subtype")
    made = await client.post("/tickets", json=report, headers=AGENT)
    assert made.status_code == 201, made.text
    assert (made.json()["reply_promise"]["amount"], made.json()["reply_promise"]["limit_key"]) == (
        9,
        "report.reply",
    )


async def test_tickets_without_a_reply_promise_carry_none(client):
    consult = {k: v for k, v in COMPLAINT.items() if k != "complaint_subtype"}
    made = await client.post(
        "/tickets", json={**consult, "ticket_type": "consultation"}, headers=AGENT
    )
    assert made.status_code == 201, made.text
    assert made.json()["reply_promise"] is None
