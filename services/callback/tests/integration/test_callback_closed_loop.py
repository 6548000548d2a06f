"""Closed loop at callback (issue 15): a no-ticket outcome or a completed consultation opens its
callback with the handling result; the script names the unit, the agent's staff number, the day
the customer called and the result; an outcome the rules do not call back opens nothing."""

import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from brightline.callback.main import create_app
from brightline.callback.settings import CallbackSettings
from brightline.contracts.events.intake import TicketCompletedV1, TicketRecordedV1
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
CALLER_AGENT = bearer(Role.AGENT, subject="cb-agent", staff_no="2046")


@pytest.fixture
def start(infra_env, db_name):
    @asynccontextmanager
    async def start():
        app = create_app(
            CallbackSettings(
                database_name=db_name("callback"), unit_name="杭州供电公司", **infra_env
            )
        )
        async with running(app) as client:
            yield client

    return start


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_no_ticket_outcome_is_called_back_with_its_result_and_the_called_day(
    start, infra_env
):
    bus = (infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"])
    paid, skipped, unit = uid("tk"), uid("tk"), uid("unit")
    # The customer called at 23:30 Beijing time on 2 March; the matter finished 3 days later.
    called = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    finished = datetime.now(UTC) - timedelta(minutes=1)
    answer = "您的故障在表后线路，已告知有偿服务电话和收费标准"
    async with start() as client:
        await publish(
            *bus,
            TicketRecordedV1(
                ticket_id=paid,
                ticket_no="202603020000009",
                ticket_type="consultation",
                recorded_at=called,
                first_ask_owner="agent-7",
                description="插座冒烟跳闸",
                caller_name="张三",
                phone="13800138000",
                call_outcome="paid_service_referral",
            ),
            TicketCompletedV1(
                ticket_id=paid,
                ticket_type="consultation",
                completed_at=finished,
                completed_by="agent-7",
                unit_id=unit,
                answer=answer,
            ),
            TicketCompletedV1(
                ticket_id=skipped,
                ticket_type="consultation",
                completed_at=finished,
                completed_by="agent-7",
                unit_id=unit,
                phone="13900000000",
                callback_due=False,
            ),
        )

        async def rate():
            rows = (
                await client.get("/callback-rates", params={"unit_id": unit}, headers=SUPERVISOR)
            ).json()
            return rows or None

        [row] = await eventually(rate)
        assert (row["ticket_type"], row["finished"], row["called_back"]) == ("consultation", 1, 0)

        held = (await client.post("/callback-tasks/next", headers=CALLER_AGENT)).json()
        assert held["task"]["ticket_id"] == paid and held["task"]["result"] == answer
        script = (
            await client.get(f"/callback-tasks/{held['task']['id']}/script", headers=CALLER_AGENT)
        ).json()
        steps = {s["id"]: s["zh"] for s in script["steps"]}
        assert steps["greeting"].startswith("您好！我是杭州供电公司95598供电服务热线2046号")
        assert "3月2日" in steps["matter"]  # the day the customer called, not the finishing day
        assert steps["result"] == f"处理结果是：{answer}。"
        assert script["reminders"][0]["zh"] == "（请待客户先挂机）"

        r = await client.post(
            f"/callback-tasks/{held['task']['id']}/outcome",
            json={"outcome": "satisfied", "customer_words": "电工已修好"},
            headers=CALLER_AGENT,
        )
        assert r.status_code == 200, r.text
        [row] = (
            await client.get("/callback-rates", params={"unit_id": unit}, headers=SUPERVISOR)
        ).json()
        assert (row["finished"], row["called_back"], row["callback_rate"]) == (1, 1, 1.0)
        assert (
            await client.get("/callback-tasks", params={"ticket_id": skipped}, headers=SUPERVISOR)
        ).json() == []
