"""Many agents pulling from the worklist at once over the real database: no task is ever handed
to two agents; a lease that runs out returns the task; attempts wait the policy's spacing."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from brightline.callback.main import create_app
from brightline.callback.settings import CallbackSettings
from brightline.contracts.events.dispatch import WorkOrderReturnedV1
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
AGENTS = 20
TASKS = 100


def agent(n: int) -> dict:
    return bearer(Role.AGENT, subject=f"agent-{n}")


def finished_repairs(unit: str, n: int) -> list:
    tickets = [f"tk-{uuid.uuid4().hex[:10]}" for _ in range(n)]
    now = datetime.now(UTC)
    return [
        TicketRecordedV1(
            ticket_id=t,
            ticket_no=f"2026{i:011d}",
            ticket_type="repair",
            recorded_at=now,
            first_ask_owner="agent-9",
            description="停电",
            caller_name="客户",
            phone="13800138000",
        )
        for i, t in enumerate(tickets)
    ] + [
        WorkOrderReturnedV1(
            work_order_id=f"wo-{t}",
            ticket_id=t,
            unit_id=unit,
            returned_at=now,
            resolution="repaired",
        )
        for t in tickets
    ]


async def wait_for_tasks(client, unit: str, n: int) -> None:
    async def ready():
        r = (
            await client.get("/callback-rates", params={"unit_id": unit}, headers=SUPERVISOR)
        ).json()
        return r and r[0]["finished"] == n

    await eventually(ready, timeout=90)


async def test_twenty_agents_pulling_at_once_never_share_a_task(infra_env, db_name):
    unit = f"unit-{uuid.uuid4().hex[:8]}"
    app = create_app(CallbackSettings(database_name=db_name("callback"), **infra_env))
    async with running(app) as client:
        await publish(
            infra_env["kafka_bootstrap_servers"],
            infra_env["kafka_topic_prefix"],
            *finished_repairs(unit, TASKS),
        )
        await wait_for_tasks(client, unit, TASKS)

        # Everyone asks at the same moment: twenty different tasks.
        first = await asyncio.gather(
            *(client.post("/callback-tasks/next", headers=agent(n)) for n in range(AGENTS))
        )
        assert all(r.status_code == 200 for r in first)
        held = {n: r.json()["task"]["id"] for n, r in enumerate(first)}
        assert len(set(held.values())) == AGENTS

        handed: list[tuple[int, str]] = list(held.items())

        async def work(n: int) -> None:
            task_id = held[n]
            while True:
                done = await client.post(
                    f"/callback-tasks/{task_id}/outcome",
                    json={"outcome": "satisfied"},
                    headers=agent(n),
                )
                assert done.status_code == 200, done.text
                nxt = await client.post("/callback-tasks/next", headers=agent(n))
                if nxt.status_code == 204:
                    return
                assert nxt.status_code == 200, nxt.text
                task_id = nxt.json()["task"]["id"]
                handed.append((n, task_id))

        await asyncio.gather(*(work(n) for n in range(AGENTS)))

        ids = [task_id for _, task_id in handed]
        assert len(ids) == TASKS and len(set(ids)) == TASKS, "a task was handed out twice"
        assert len({n for n, _ in handed}) == AGENTS
        [rate] = (
            await client.get("/callback-rates", params={"unit_id": unit}, headers=SUPERVISOR)
        ).json()
        assert (rate["finished"], rate["called_back"], rate["satisfied"]) == (TASKS, TASKS, TASKS)


async def test_a_lapsed_lease_returns_the_task_and_attempts_wait_the_spacing(infra_env, db_name):
    unit = f"unit-{uuid.uuid4().hex[:8]}"
    app = create_app(
        CallbackSettings(database_name=db_name("callback"), lease_seconds=1, **infra_env)
    )
    async with running(app) as client:
        await publish(
            infra_env["kafka_bootstrap_servers"],
            infra_env["kafka_topic_prefix"],
            *finished_repairs(unit, 1),
        )
        await wait_for_tasks(client, unit, 1)

        task = (await client.post("/callback-tasks/next", headers=agent(1))).json()["task"]

        # agent-1 vanishes; once the lease lapses agent-2 gets the task and agent-1 can no longer record.
        async def taken_over():
            r = await client.post("/callback-tasks/next", headers=agent(2))
            return r.json() if r.status_code == 200 else None

        assert (await eventually(taken_over))["task"]["id"] == task["id"]
        late = await client.post(
            f"/callback-tasks/{task['id']}/outcome", json={"outcome": "satisfied"}, headers=agent(1)
        )
        assert late.status_code == 409, f"a vanished agent recorded an outcome: {late.text}"

        async def record_unreachable():
            await client.post("/callback-tasks/next", headers=agent(2))
            r = await client.post(
                f"/callback-tasks/{task['id']}/outcome",
                json={"outcome": "unreachable"},
                headers=agent(2),
            )
            return r.json() if r.status_code == 200 else None

        after = await eventually(record_unreachable)
        assert (after["status"], after["attempts"]) == ("open", 1)
        # The next attempt is due two hours later (seed pack spacing): nobody gets it now.
        assert (await client.post("/callback-tasks/next", headers=agent(3))).status_code == 204
        gap = datetime.fromisoformat(after["next_attempt_at"]) - datetime.now(UTC)
        assert gap.total_seconds() > 3600
