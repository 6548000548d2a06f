"""From a ticket finishing in another service to a callback outcome and a reopen, over the real
broker and database: the other services' events are published onto Kafka as they would be."""

import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from brightline.callback.main import create_app
from brightline.callback.settings import CallbackSettings
from brightline.contracts.events.casework import CaseStatusChangedV1
from brightline.contracts.events.dispatch import WorkOrderReturnedV1, WorkOrderStatusChangedV1
from brightline.contracts.events.intake import TicketCompletedV1, TicketRecordedV1
from brightline.contracts.topics import CALLBACK_RATES, CALLBACK_TASKS
from brightline.messaging import prefixed
from brightline.messaging.testing import events_of, publish, read_topic
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")


def agent(n: int | str) -> dict:
    return bearer(Role.AGENT, subject=f"agent-{n}")


NO_SPACING = """
name: no-spacing
version: "1"
extends: seed
effective_from: 2000-01-02
parameters:
  callback.attempt_spacing: {value: 0, unit: hours, source: "test: attempts back to back"}
"""


@pytest.fixture
def start(infra_env, db_name, monkeypatch, tmp_path):
    @asynccontextmanager
    async def start(no_spacing: bool = False, **overrides):
        if no_spacing:  # the spacing is the pack's, not a setting: adopt a pack without it
            pack = tmp_path / "no-spacing.yaml"
            pack.write_text(NO_SPACING, encoding="utf-8")
            monkeypatch.setenv("BRIGHTLINE_POLICY_PACK_FILES", str(pack))
        app = create_app(
            CallbackSettings(database_name=db_name("callback"), **infra_env, **overrides)
        )
        async with running(app) as client:
            yield client

    return start


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def recorded(ticket_id: str, ticket_type: str = "repair", **kw) -> TicketRecordedV1:
    return TicketRecordedV1(
        ticket_id=ticket_id,
        ticket_no="202603020000001",
        ticket_type=ticket_type,
        recorded_at=datetime.now(UTC),
        first_ask_owner="agent-9",
        description="整栋楼停电",
        **{"caller_name": "张三", "phone": "13800138000", **kw},
    )


def returned(
    ticket_id: str, unit_id: str, incident_id: str | None = None, cause: str | None = None
) -> WorkOrderReturnedV1:
    return WorkOrderReturnedV1(
        work_order_id=uid("wo"),
        ticket_id=ticket_id,
        unit_id=unit_id,
        returned_at=datetime.now(UTC),
        resolution="repaired",
        cause=cause,
        incident_id=incident_id,
    )


async def tasks_of(client, ticket_id: str) -> list:
    r = await client.get("/callback-tasks", params={"ticket_id": ticket_id}, headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    return r.json()


async def emitted(infra_env, topic, event_type: str, **match) -> list:
    """Events of one type on one of our topics whose data matches, polled until some arrive."""

    async def found():
        records = await read_topic(
            infra_env["kafka_bootstrap_servers"],
            prefixed(infra_env["kafka_topic_prefix"], topic.name),
            expect=10**9,
            timeout=1,
        )
        return [
            e
            for e in events_of(records)
            if e.type == event_type and all(e.data.get(k) == v for k, v in match.items())
        ]

    return await eventually(found)


async def test_repair_returned_to_unsatisfied_callback_and_reopen(start, infra_env):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    ticket, unit = uid("tk"), uid("unit")
    async with start() as client:
        finished = returned(ticket, unit, cause="表箱开关故障")
        # The same return published twice (a relay retry after a crash) opens one task.
        await publish(bootstrap, prefix, recorded(ticket, address="XX路1号"), finished, finished)
        [task] = await eventually(lambda: tasks_of(client, ticket))
        assert (task["origin"], task["ticket_type"], task["unit_id"], task["status"]) == (
            "dispatch",
            "repair",
            unit,
            "open",
        )
        assert "phone" not in task  # contact goes only to the agent holding the task

        taken = await client.post("/callback-tasks/next", headers=agent(1))
        assert taken.status_code == 200, taken.text
        assert taken.json()["task"]["id"] == task["id"]
        assert taken.json()["contact"] == {"phone": "13800138000", "customer_name": "张三"}
        # No second agent gets it; the holder gets it back on a refresh.
        assert (await client.post("/callback-tasks/next", headers=agent(2))).status_code == 204
        assert (await client.post("/callback-tasks/next", headers=agent(1))).json()["task"][
            "id"
        ] == task["id"]

        script = await client.get(f"/callback-tasks/{task['id']}/script", headers=agent(1))
        assert script.status_code == 200
        assert script.json()["contact"]["phone"] == "13800138000"
        assert {s["id"] for s in script.json()["steps"]} >= {"greeting", "satisfaction", "closing"}
        # What the crew found and did, as they returned the order; then: is the power back?
        steps = {s["id"]: s["zh"] for s in script.json()["steps"]}
        assert steps["result"] == "处理结果是：经查是表箱开关故障，故障已修复。"
        assert steps["check"] == "请问您那里现在有电了吗？"
        assert (
            await client.get(f"/callback-tasks/{task['id']}/script", headers=agent(2))
        ).status_code == 409

        no_reason = await client.post(
            f"/callback-tasks/{task['id']}/outcome",
            json={"outcome": "unsatisfied"},
            headers=agent(1),
        )
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
        assert (
            await client.post(
                f"/callback-tasks/{task['id']}/outcome",
                json={"outcome": "satisfied"},
                headers=agent(2),
            )
        ).status_code == 409

        body = {
            "outcome": "unsatisfied",
            "reason": "修好后又停了",
            "customer_words": "晚上又停电了,希望彻底修好",
        }
        headers = {**agent(1), "Idempotency-Key": "cb-1"}
        first = await client.post(
            f"/callback-tasks/{task['id']}/outcome", json=body, headers=headers
        )
        assert first.status_code == 200, first.text
        again = await client.post(
            f"/callback-tasks/{task['id']}/outcome", json=body, headers=headers
        )
        assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
        assert first.json()["outcome"] == "unsatisfied" and first.json()["attempts"] == 1

        detail = (await client.get(f"/callback-tasks/{task['id']}", headers=SUPERVISOR)).json()
        assert [a["customer_words"] for a in detail["attempt_log"]] == ["晚上又停电了,希望彻底修好"]

        [reopen] = await emitted(
            infra_env, CALLBACK_TASKS, "brightline.callback.reopen.requested.v1", ticket_id=ticket
        )
        assert reopen.data["origin"] == "dispatch" and reopen.data["reason"] == "修好后又停了"
        assert reopen.data["customer_words"] == "晚上又停电了,希望彻底修好"
        [outcome] = await emitted(
            infra_env, CALLBACK_TASKS, "brightline.callback.outcome.recorded.v1", ticket_id=ticket
        )
        assert (outcome.data["outcome"], outcome.data["attempts"], outcome.data["agent_id"]) == (
            "unsatisfied",
            1,
            "agent-1",
        )

        # Dispatch reopens and the crew returns the order again: a new callback is due.
        await publish(bootstrap, prefix, returned(ticket, unit))

        async def second_task():
            found = await tasks_of(client, ticket)
            return found if len(found) == 2 else None

        first_task, again_task = await eventually(second_task)
        assert (first_task["id"], first_task["status"]) == (task["id"], "closed")
        assert again_task["status"] == "open"


def step(ticket_id: str, unit_id: str, order: str, status: str, previous: str, **kw):
    return WorkOrderStatusChangedV1(
        work_order_id=order,
        ticket_id=ticket_id,
        unit_id=unit_id,
        status=status,
        previous_status=previous,
        changed_at=datetime.now(UTC),
        **kw,
    )


async def test_a_repair_called_off_is_called_back_with_its_reason(start, infra_env):
    """A crew's "not needed" (power back before it came) closes the ticket like a return: the
    customer is called back, told why; the order's other steps open nothing."""
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    ticket, unit, order = uid("tk"), uid("unit"), uid("wo")
    other_ticket = uid("tk")
    async with start() as client:
        called_off = step(
            ticket, unit, order, "cancelled", "accepted", reason="客户告知已自行恢复供电"
        )
        await publish(
            bootstrap,
            prefix,
            recorded(ticket),
            recorded(other_ticket),
            step(ticket, unit, order, "accepted", "assigned", crew_id="crew-1"),
            step(other_ticket, unit, uid("wo"), "on_site", "en_route", crew_id="crew-1"),
            called_off,
            called_off,  # a relay's retry opens no second task
        )
        [task] = await eventually(lambda: tasks_of(client, ticket))
        assert (task["origin"], task["ticket_type"], task["unit_id"], task["status"]) == (
            "dispatch",
            "repair",
            unit,
            "open",
        )
        assert task["result"] == "经查是客户告知已自行恢复供电，本次抢修已撤销"
        assert await tasks_of(client, other_ticket) == []


async def test_case_answered_and_intake_completion_open_tasks_with_their_origin(start, infra_env):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    complaint, consult, dept = uid("tk"), uid("tk"), uid("dept")
    async with start() as client:
        await publish(
            bootstrap,
            prefix,
            recorded(complaint, "complaint", caller_name="李四", phone="13900000001"),
            CaseStatusChangedV1(
                case_id=uid("case"),
                ticket_id=complaint,
                case_type="complaint",
                status="replied",
                previous_status="investigating",
                changed_at=datetime.now(UTC),
                actor="dept-x",
            ),
            CaseStatusChangedV1(
                case_id=uid("case"),
                ticket_id=complaint,
                case_type="complaint",
                status="answered",
                previous_status="replied",
                changed_at=datetime.now(UTC),
                actor="dept-x",
                department_id=dept,
            ),
            TicketCompletedV1(
                ticket_id=consult,
                ticket_type="consultation",
                completed_at=datetime.now(UTC),
                completed_by="agent-3",
                unit_id=dept,
                phone="13900000002",
            ),
            # Intake's record of the consultation, after its completion, with no phone: the
            # phone learnt from the completion stays, and the name is added.
            recorded(consult, "consultation", phone=None, caller_name="赵六"),
        )
        [case_task] = await eventually(lambda: tasks_of(client, complaint))
        [intake_task] = await eventually(lambda: tasks_of(client, consult))
        assert (case_task["origin"], case_task["ticket_type"], case_task["unit_id"]) == (
            "casework",
            "complaint",
            dept,
        )
        assert (intake_task["origin"], intake_task["ticket_type"]) == ("intake", "consultation")

        handed, holder = {}, {}
        for n in (1, 2):
            r = (await client.post("/callback-tasks/next", headers=agent(n))).json()
            handed[r["task"]["id"]] = r["contact"]
            holder[r["task"]["id"]] = n
        assert handed[case_task["id"]] == {"phone": "13900000001", "customer_name": "李四"}

        async def consult_contact():  # asked again, the holder gets the same task, contact re-read
            r = await client.post("/callback-tasks/next", headers=agent(holder[intake_task["id"]]))
            assert r.json()["task"]["id"] == intake_task["id"]
            return r.json()["contact"]["customer_name"] == "赵六" and r.json()["contact"]

        assert (await eventually(consult_contact))["phone"] == "13900000002"
        for task_id, n in holder.items():
            r = await client.post(
                f"/callback-tasks/{task_id}/outcome",
                json={"outcome": "unsatisfied", "reason": "答复不清楚"},
                headers=agent(n),
            )
            assert r.status_code == 200, r.text

        reopens = {}
        for ticket in (complaint, consult):
            [e] = await emitted(
                infra_env,
                CALLBACK_TASKS,
                "brightline.callback.reopen.requested.v1",
                ticket_id=ticket,
            )
            reopens[ticket] = e.data["origin"]
        assert reopens == {complaint: "casework", consult: "intake"}


async def test_anonymous_report_is_never_called_and_reporters_stay_unnamed(start, infra_env):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    anonymous, named, dept = uid("tk"), uid("tk"), uid("dept")

    def answered(ticket):
        return CaseStatusChangedV1(
            case_id=uid("case"),
            ticket_id=ticket,
            case_type="report",
            status="answered",
            previous_status="replied",
            changed_at=datetime.now(UTC),
            actor="dept-x",
            department_id=dept,
        )

    async with start() as client:
        # The answer may arrive before intake's record: the task closes once anonymity is known.
        await publish(bootstrap, prefix, answered(anonymous))
        await eventually(lambda: tasks_of(client, anonymous))
        await publish(
            bootstrap,
            prefix,
            recorded(
                anonymous, "report", anonymous=True, phone="13700000000", caller_name="匿名者"
            ),
            recorded(named, "report", caller_name="王五", phone="13700000001"),
            answered(named),
        )

        async def closed():
            [t] = await tasks_of(client, anonymous)
            return t if t["status"] == "closed" else None

        task = await eventually(closed)
        assert (task["outcome"], task["attempts"], task["callable"]) == ("declined", 0, False)

        await eventually(lambda: tasks_of(client, named))
        r = await client.post("/callback-tasks/next", headers=agent(1))
        assert r.json()["contact"] == {
            "phone": "13700000001",
            "customer_name": None,
        }  # reporter's name withheld
        script = (
            await client.get(f"/callback-tasks/{r.json()['task']['id']}/script", headers=agent(1))
        ).json()
        assert "王五" not in str(script)
        assert (await client.post("/callback-tasks/next", headers=agent(2))).status_code == 204

        rates = (
            await client.get("/callback-rates", params={"unit_id": dept}, headers=SUPERVISOR)
        ).json()
        assert [(r["finished"], r["called_back"]) for r in rates] == [
            (1, 0)
        ]  # the anonymous one is not due


async def test_outage_batch_only_gives_the_restoration_notice_each_callback_is_its_own(
    start, infra_env
):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    incident, unit = uid("inc"), uid("unit")
    tickets = [uid("tk") for _ in range(3)]
    async with start() as client:
        await publish(
            bootstrap,
            prefix,
            *[recorded(t, phone=f"1380000000{i}") for i, t in enumerate(tickets)],
            *[returned(t, unit, incident) for t in tickets],
        )

        async def listed():
            r = await client.get(f"/incidents/{incident}/callback-tasks", headers=agent(1))
            return r.json() if len(r.json()) == 3 else None

        tasks = await eventually(listed)
        assert {t["ticket_id"] for t in tasks} == set(tickets) and {
            t["incident_id"] for t in tasks
        } == {incident}

        held = (await client.post("/callback-tasks/next", headers=agent(2))).json()
        assert len(held["incident_task_ids"]) == 2
        # The old batch outcome, which wrote one customer's satisfaction onto every task, is gone.
        gone = await client.post(
            f"/incidents/{incident}/callback-outcome",
            json={"outcome": "satisfied", "customer_words": "都来电了"},
            headers=agent(1),
        )
        assert gone.status_code in (404, 405)
        r = await client.post(f"/incidents/{incident}/restoration-notice", headers=agent(1))
        assert r.status_code == 200, r.text
        noted = r.json()["noted"]
        assert len(noted) == 3  # the held task too: a notice is no callback and takes no lease
        assert all(
            t["status"] == "open" and t["outcome"] is None and t["customer_words"] is None
            for t in noted
        )
        assert all(t["restoration_notice_at"] for t in noted)
        again = await client.post(f"/incidents/{incident}/restoration-notice", headers=agent(1))
        assert again.json()["noted"] == []  # once per customer
        await emitted(
            infra_env,
            CALLBACK_TASKS,
            "brightline.callback.restoration-notice.given.v1",
            incident_id=incident,
        )

        # No satisfaction anywhere, and nobody counts as called back.
        [rate] = (
            await client.get("/callback-rates", params={"unit_id": unit}, headers=SUPERVISOR)
        ).json()
        assert (rate["finished"], rate["called_back"], rate["satisfied"]) == (3, 0, 0)

        # Each customer's callback is their own: one satisfied, one unsatisfied with their words.
        mine = await client.post(
            f"/callback-tasks/{held['task']['id']}/outcome",
            json={"outcome": "unsatisfied", "reason": "停了六个小时", "customer_words": "太慢了"},
            headers=agent(2),
        )
        assert mine.status_code == 200, mine.text
        other = (await client.post("/callback-tasks/next", headers=agent(1))).json()["task"]
        await client.post(
            f"/callback-tasks/{other['id']}/outcome",
            json={"outcome": "satisfied", "customer_words": "来电了"},
            headers=agent(1),
        )
        after = {
            t["id"]: t
            for t in (
                await client.get(f"/incidents/{incident}/callback-tasks", headers=agent(1))
            ).json()
        }
        assert after[held["task"]["id"]]["customer_words"] == "太慢了"
        assert after[other["id"]]["customer_words"] == "来电了"
        assert [t["status"] for t in after.values()].count("open") == 1


async def test_rates_match_hand_computed_numbers_and_are_published(start, infra_env):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    unit = uid("unit")
    tickets = [uid("tk") for _ in range(6)]
    # No spacing, so the three attempts of one task can be made one after another here.
    async with start(no_spacing=True) as client:
        await publish(
            bootstrap,
            prefix,
            *[recorded(t) for t in tickets],
            *[returned(t, unit) for t in tickets],
        )

        async def all_tasks():
            r = (
                await client.get("/callback-rates", params={"unit_id": unit}, headers=SUPERVISOR)
            ).json()
            return r if r and r[0]["finished"] == 6 else None

        await eventually(all_tasks)

        async def call(outcome, n=1, **extra):
            task = (await client.post("/callback-tasks/next", headers=agent(n))).json()["task"]
            r = await client.post(
                f"/callback-tasks/{task['id']}/outcome",
                json={"outcome": outcome, **extra},
                headers=agent(n),
            )
            assert r.status_code == 200, r.text
            return r.json()

        await call("satisfied")
        await call("basically_satisfied")
        await call("unsatisfied", reason="态度不好")
        await call("declined")
        # One customer never picks up: three attempts, then the task ends unreachable.
        first = await call("unreachable")
        assert (first["status"], first["attempts"]) == ("open", 1)
        rest = []
        for _ in range(2):
            task = (await client.post("/callback-tasks/next", headers=agent(1))).json()["task"]
            if (
                task["id"] != first["id"]
            ):  # the oldest due comes first; skip the others by calling them later
                await client.post(
                    f"/callback-tasks/{task['id']}/outcome",
                    json={"outcome": "unreachable"},
                    headers=agent(1),
                )
                rest.append(task["id"])
                task = (await client.post("/callback-tasks/next", headers=agent(1))).json()["task"]
            r = await client.post(
                f"/callback-tasks/{task['id']}/outcome",
                json={"outcome": "unreachable"},
                headers=agent(1),
            )
            last = r.json()
        assert (last["id"], last["status"], last["outcome"], last["attempts"]) == (
            first["id"],
            "closed",
            "unreachable",
            3,
        )
        # The sixth task got at most one attempt in between: still open, not yet called back.
        # finished 6; called back 4 (only customers reached); 1 attempted but never reached,
        # its own figure; satisfied 2.
        [rate] = (
            await client.get("/callback-rates", params={"unit_id": unit}, headers=SUPERVISOR)
        ).json()
        assert (
            rate["finished"],
            rate["called_back"],
            rate["reached"],
            rate["satisfied"],
            rate["attempted_unreached"],
        ) == (6, 4, 4, 2, 1)
        assert rate["callback_rate"] == pytest.approx(4 / 6)
        assert rate["satisfaction_rate"] == pytest.approx(2 / 4)
        day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        assert rate["key"] == f"{day}|{unit}|repair" and rate["day"] == day
        assert (await client.get("/callback-rates", headers=agent(1))).status_code == 403

        async def latest_published():
            events = await emitted(
                infra_env, CALLBACK_RATES, "brightline.callback.rate.computed.v1", unit_id=unit
            )
            latest = events[-1].data
            return latest if latest["attempted_unreached"] == 1 else None

        latest = await eventually(latest_published)
        assert (latest["key"], latest["finished"], latest["reached"], latest["satisfied"]) == (
            rate["key"],
            6,
            4,
            2,
        )
        assert latest["called_back"] == 4
        assert latest["callback_rate"] == pytest.approx(4 / 6) and latest[
            "satisfaction_rate"
        ] == pytest.approx(0.5)


async def test_every_route_names_its_owner_roles(start):
    async with start() as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
        crew = bearer(Role.CREW, subject="crew-1")
        checked = 0
        for path, methods in paths.items():
            if path in ("/healthz", "/readyz", "/metrics", "/oauth/token"):  # public by design
                continue
            url = path.replace("{task_id}", "x").replace("{incident_id}", "x")
            for method in methods:
                assert (await client.request(method, url)).status_code == 401, (method, path)
                assert (await client.request(method, url, headers=crew)).status_code == 403, (
                    method,
                    path,
                )
                checked += 1
        assert checked == 10  # nine callback routes and the shared /audit/events
