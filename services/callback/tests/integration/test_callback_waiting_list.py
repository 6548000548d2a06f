"""The whole callback worklist: every open task, soonest due first, paged and filtered by ticket
type or to the overdue ones (repairs returned by crews, over the real broker and database)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from brightline.callback.main import create_app
from brightline.callback.settings import CallbackSettings
from brightline.contracts.events.dispatch import WorkOrderReturnedV1
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-1")


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def repair_returned(ticket_id: str, unit: str, at: datetime) -> list:
    return [
        TicketRecordedV1(
            ticket_id=ticket_id,
            ticket_no="202603020000001",
            ticket_type="repair",
            recorded_at=at - timedelta(hours=2),
            first_ask_owner="agent-9",
            description="家里没电",
            caller_name="张三",
            phone="13800138000",
        ),
        WorkOrderReturnedV1(
            work_order_id=uid("wo"),
            ticket_id=ticket_id,
            unit_id=unit,
            returned_at=at,
            resolution="repaired",
        ),
    ]


async def test_every_waiting_task_paged_and_filtered(infra_env, db_name):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    unit, now = uid("unit"), datetime.now(UTC)
    old = [uid("old") for _ in range(3)]  # returned a month ago: their callbacks are overdue
    new = [uid("new") for _ in range(2)]
    events = [e for t in old for e in repair_returned(t, unit, now - timedelta(days=30))]
    events += [e for t in new for e in repair_returned(t, unit, now)]
    app = create_app(CallbackSettings(database_name=db_name("callback"), **infra_env))
    async with running(app) as client:
        await publish(bootstrap, prefix, *events)

        async def waiting(**params) -> dict:
            response = await client.get("/callback-tasks/waiting", params=params, headers=AGENT)
            assert response.status_code == 200, response.text
            return response.json()

        async def all_mine():
            page = await waiting(limit=100)
            return set(old + new) <= {t["ticket_id"] for t in page["items"]} and page

        everything = await eventually(all_mine, timeout=60)
        dues = [t["due_at"] for t in everything["items"]]
        assert dues == sorted(dues)
        assert everything["total"] >= 5
        assert all("phone" not in t and t["status"] == "open" for t in everything["items"])

        overdue = {t["ticket_id"] for t in (await waiting(overdue="true", limit=100))["items"]}
        assert set(old) <= overdue and not set(new) & overdue
        first, second = await waiting(limit=2), await waiting(limit=2, offset=2)
        assert [t["id"] for t in first["items"] + second["items"]] == [
            t["id"] for t in everything["items"][:4]
        ]
        assert first["total"] == everything["total"]
        # The total rides on the page's rows; a page past the end still says it.
        assert await waiting(limit=2, offset=10_000) == {"items": [], "total": everything["total"]}
        consultations = await waiting(ticket_type="consultation", limit=100)
        assert not set(old + new) & {t["ticket_id"] for t in consultations["items"]}
        assert (
            await client.get("/callback-tasks/waiting", params={"limit": 0}, headers=AGENT)
        ).status_code == 422
