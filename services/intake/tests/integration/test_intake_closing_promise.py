"""The complaint closing says by when the customer hears back, in the unit the pack in force
counts, computed by the SLA monitor from the pack, while the call is live (issue 15 point 9)."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.contracts.events.sla import DeadlineOpenedV1
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024")


@pytest.fixture
async def client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield client


def opened(ticket_id: str, amount: int, unit: str, pack: str, at: datetime) -> DeadlineOpenedV1:
    return DeadlineOpenedV1(
        deadline_id=f"d-{ticket_id}-{pack}",
        limit_key="complaint.reply",
        policy_pack=pack,
        subject_type="case",
        subject_id=f"case-{ticket_id}",
        ticket_id=ticket_id,
        opened_at=at,
        warn_at=at + timedelta(days=1),
        due_at=at + timedelta(days=amount),
        amount=amount,
        unit=unit,
    )


async def test_complaint_closing_promises_the_reply_in_the_packs_unit(client, infra_env):
    body = {
        "ticket_type": "complaint",
        "description": "抄表员态度恶劣",
        "caller_name": "孙八",
        "phone": "13300133000",
        "complaint_subtype": "service",
    }
    tid = (await client.post("/tickets", json=body, headers=AGENT)).json()["id"]
    before = (await client.get("/greetings", params={"ticket_id": tid}, headers=AGENT)).json()
    assert before["reply_promise_pending"] is True
    assert before["closing"].endswith("请问还有其他可以帮您的吗？")
    assert before["goodbye"] == "祝您生活愉快，再见！"
    assert "客户先挂断" in before["closing_reminder"]

    now = datetime.now(UTC)
    bus = (infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"])
    await publish(*bus, opened(tid, 5, "calendar_days", "seed@1", now))

    async def promised(text):
        async def check():
            g = (await client.get("/greetings", params={"ticket_id": tid}, headers=AGENT)).json()
            return g if text in g["closing"] else None

        return await eventually(check, timeout=30)

    g = await promised("5天内")
    assert g["reply_promise_pending"] is False
    assert g["closing"] == (
        "非常感谢您的宝贵意见，我们会尽快向有关部门反映，并在5天内给您明确的答复。"
        "请问还有其他可以帮您的吗？"
    )
    # A pack counting working days (a reopened case under sgcc-2011): its own unit is said.
    await publish(*bus, opened(tid, 7, "working_days", "sgcc-2011@1", now + timedelta(hours=1)))
    await promised("7个工作日内")
