"""Records across the whole call centre, through public APIs only: a repair ticket's full life
(call, ticket, work order, crew steps, arrival, a return sent back at review and the one that
passes, callback) in one timeline, in order, found
by 工单号, by the caller's phone written three ways and by part of the address; a report that an
agent's search never finds and a caseworker of the handling department finds without the
reporter, the read audited; and the rebuild from Kafka ending equal to the live view."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually

pytestmark = pytest.mark.e2e

INTEGRATION = bearer(Role.INTEGRATION, subject="cti-switch")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
AGENT = bearer(Role.AGENT, subject="agent-7", name="王坐席")
SITE = (31.2304, 121.4737)


def step(at: datetime) -> dict:
    return {"Idempotency-Key": str(uuid.uuid4()), "X-Device-Time": at.isoformat()}


async def ok(response, *codes: int):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json() if response.content else None


async def seed_dispatch(http, url: str, unit: str) -> dict:
    await ok(await http.put(f"{url}/units/{unit}", json={"name": "城区抢修"}, headers=INTEGRATION))
    await ok(
        await http.put(
            f"{url}/service-areas",
            json={"areas": [{"area_code": f"{unit}-01", "unit_id": unit, "area_class": "urban"}]},
            headers=INTEGRATION,
        )
    )
    crew = f"{unit}-crew-a"
    await ok(
        await http.put(
            f"{url}/crews/{crew}", json={"unit_id": unit, "name": "抢修一班"}, headers=INTEGRATION
        )
    )
    await ok(
        await http.put(
            f"{url}/crews/{crew}/members/{crew}-m1",
            json={"name": "member"},
            headers=INTEGRATION,
        )
    )
    await ok(
        await http.put(
            f"{url}/crews/{crew}/position",
            json={"latitude": SITE[0] + 0.01, "longitude": SITE[1]},
            headers=INTEGRATION,
        )
    )
    await ok(await http.put(f"{url}/crews/{crew}/duty", json={"on_duty": True}, headers=SUPERVISOR))
    # The crew member signs in at the identity provider (the phone's public client).
    return bearer(Role.CREW, subject=f"{crew}-m1", crew_id=crew, unit_id=unit)


async def search(http, url: str, headers: dict, **params) -> list[dict]:
    response = await http.get(f"{url}/tickets", params=params, headers=headers)
    return (await ok(response, 200))["items"]


async def record_repair(http, intake: str, unit: str, **fields) -> dict:
    """A one-home repair at the site, recorded by the agent through intake's API."""
    body = {
        "ticket_type": "repair",
        "area_code": f"{unit}-01",
        "latitude": SITE[0],
        "longitude": SITE[1],
        "fault_scope": "own_home",
        "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        **fields,
    }
    return await ok(
        await http.post(
            f"{intake}/tickets",
            json=body,
            headers={**AGENT, "Idempotency-Key": str(uuid.uuid4())},
        ),
        201,
    )


async def assigned_order(http, dispatch: str, ticket_id: str) -> dict:
    """The ticket's work order once dispatch has offered it to a crew."""

    async def offered():
        found = await ok(
            await http.get(
                f"{dispatch}/work-orders", params={"ticket_id": ticket_id}, headers=SUPERVISOR
            ),
            200,
        )
        return found and found[0]["status"] == "assigned" and found[0]

    return await eventually(offered, timeout=60)


async def callback_task(http, callback: str, ticket_id: str) -> dict:
    """The ticket's callback task, once callback has opened it."""

    async def opened():
        return (
            await ok(
                await http.get(
                    f"{callback}/callback-tasks",
                    params={"ticket_id": ticket_id},
                    headers=SUPERVISOR,
                ),
                200,
            )
        )[:1]

    [task] = await eventually(opened, timeout=60)
    return task


async def test_a_repair_tickets_whole_life_is_one_timeline_found_every_way(stack):
    intake, dispatch, callback, records = (
        stack.url(n) for n in ("intake", "dispatch", "callback", "records")
    )
    unit = f"unit-{uuid.uuid4().hex[:6]}"
    call_id = f"call-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC).replace(microsecond=0)
    async with stack.http() as http:
        crew = await seed_dispatch(http, dispatch, unit)
        # The call, as the switch reports it.
        for event, at, extra in (
            (
                "newCall",
                now - timedelta(seconds=30),
                {"callerNumber": "13912345678", "calledNumber": "95598", "queue": "repair"},
            ),
            (
                "answer",
                now - timedelta(seconds=24),
                {"agentExtension": "8007", "agentId": "agent-7"},
            ),
            ("hangup", now - timedelta(seconds=1), {"cause": "normal"}),
        ):
            await ok(
                await http.post(
                    f"{intake}/cti/events",
                    json={"event": event, "callId": call_id, "timestamp": at.isoformat(), **extra},
                    headers=INTEGRATION,
                )
            )
        ticket = await record_repair(
            http,
            intake,
            unit,
            description="家里突然没电了",
            call_id=call_id,
            caller_name="赵六",
            phone="139-1234-5678",
            address="和平区幸福路88号3栋2单元",
        )
        ticket_id, ticket_no = ticket["id"], ticket["no"]

        order = await assigned_order(http, dispatch, ticket_id)
        t = datetime.now(UTC)  # the crew's steps follow at 10 ms intervals (device times)
        oid = order["id"]
        await ok(
            await http.post(f"{dispatch}/mobile/orders/{oid}/accept", headers={**crew, **step(t)})
        )
        await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{oid}/en-route",
                headers={**crew, **step(t + timedelta(milliseconds=10))},
            )
        )
        await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{oid}/on-site",
                json={"latitude": SITE[0], "longitude": SITE[1]},
                headers={**crew, **step(t + timedelta(milliseconds=20))},
            )
        )
        await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{oid}/resolution",
                json={
                    "cause": "跳闸",
                    "notes": "合闸恢复",
                    "device_time": (t + timedelta(milliseconds=30)).isoformat(),
                },
                headers={**crew, "Idempotency-Key": str(uuid.uuid4())},
            )
        )
        await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{oid}/return",
                headers={**crew, **step(t + timedelta(milliseconds=40))},
            )
        )

        # 回单审核: the duty dispatcher sends the return back (the cause says too little); the
        # crew puts it right and returns it again; the second return passes.
        why = "原因不具体：请写明哪一处跳闸"
        await ok(
            await http.post(
                f"{dispatch}/work-orders/{oid}/return-send-back",
                json={"reason": why},
                headers=SUPERVISOR,
            )
        )
        mine = await ok(await http.get(f"{dispatch}/mobile/orders/{oid}", headers=crew))
        assert (mine["status"], mine["sent_back_reason"]) == ("on_site", why)

        async def at_intake(wanted: str):
            found = await ok(await http.get(f"{intake}/tickets/{ticket_id}", headers=AGENT))
            return found["status"] == wanted

        # An agent asked now hears the repair is being handled again, not that it is done.
        await eventually(lambda: at_intake("reopened"), timeout=60)
        t2 = datetime.now(UTC)
        await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{oid}/resolution",
                json={"cause": "表箱空开跳闸", "notes": "合闸恢复", "device_time": t2.isoformat()},
                headers={**crew, "Idempotency-Key": str(uuid.uuid4())},
            )
        )
        await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{oid}/return",
                headers={**crew, **step(t2 + timedelta(milliseconds=10))},
            )
        )
        await ok(
            await http.post(f"{dispatch}/work-orders/{oid}/return-approval", headers=SUPERVISOR)
        )

        await eventually(lambda: at_intake("resolved"), timeout=60)

        # The callback the passed return opened (one: the return sent back opened none), done
        # by an agent.
        task = await callback_task(http, callback, ticket_id)

        async def take_next():
            response = await http.post(f"{callback}/callback-tasks/next", headers=AGENT)
            return response.status_code == 200 and response.json()

        held = await eventually(take_next)
        assert held["task"]["id"] == task["id"]
        # The agent tells the customer what the crew found and did, as the crew returned it.
        script = await ok(
            await http.get(f"{callback}/callback-tasks/{task['id']}/script", headers=AGENT), 200
        )
        steps = {s["id"]: s["zh"] for s in script["steps"]}
        assert steps["result"] == "处理结果是：经查是表箱空开跳闸，故障已修复。"
        assert steps["check"] == "请问您那里现在有电了吗？"
        await ok(
            await http.post(
                f"{callback}/callback-tasks/{task['id']}/outcome",
                json={"outcome": "satisfied", "customer_words": "很快就来了，谢谢"},
                headers={**AGENT, "Idempotency-Key": str(uuid.uuid4())},
            ),
            200,
        )

        # One timeline, in order, across intake, dispatch, the SLA monitor and callback.
        wanted = [
            "call.ringing",
            "call.answered",
            "ticket.recorded",
            "work_order.created",
            "work_order.assigned",
            "work_order.accepted",
            "work_order.en_route",
            "work_order.on_site",
            "work_order.resolved",
            "work_order.returned",
            "work_order.sent_back",
            "work_order.resolved",
            "work_order.returned",
            "work_order.resolution",
            "callback.due",
            "callback.outcome",
        ]

        async def timeline():
            response = await http.get(f"{records}/tickets/{ticket_id}/timeline", headers=AGENT)
            if response.status_code != 200:
                return None
            body = response.json()
            kinds = [e["kind"] for e in body["entries"]]
            # The view's status follows its own events: wait for it too, not only for the entries.
            caught_up = body["ticket"]["status"] == "called_back"
            return set(wanted) <= set(kinds) and "deadline.opened" in kinds and caught_up and body

        body = await eventually(timeline, timeout=90)
        kinds = [e["kind"] for e in body["entries"]]
        assert [k for k in kinds if k in wanted] == wanted, kinds
        assert "call.ended" in kinds and "deadline.met" in kinds, kinds  # arrival met on site
        times = [e["occurred_at"] for e in body["entries"]]
        assert times == sorted(times, key=datetime.fromisoformat)
        assert body["ticket"]["status"] == "called_back"
        assert body["ticket"]["unit_id"] == unit
        [back] = [e for e in body["entries"] if e["kind"] == "work_order.sent_back"]
        assert back["data"]["reason"] == why
        # Callback read the whole order's events in order (one key): the return sent back
        # opened no task of its own.
        tasks = await ok(
            await http.get(
                f"{callback}/callback-tasks", params={"ticket_id": ticket_id}, headers=SUPERVISOR
            ),
            200,
        )
        assert [x["id"] for x in tasks] == [task["id"]]
        # No personal data in the timeline itself (the ticket card holds it).
        assert "13912345678" not in str(body["entries"]) and "赵六" not in str(body["entries"])

        # Found by 工单号, by the phone written three ways, by a part of the address.
        [by_no] = await search(http, records, AGENT, ticket_no=ticket_no)
        assert by_no["ticket_id"] == ticket_id and by_no["caller_name"] == "赵六"
        for written in ("13912345678", "+86 139 1234 5678", "+86-139-1234-5678", "139-1234-5678"):
            found = await search(http, records, AGENT, phone=written)
            assert [f["ticket_id"] for f in found] == [ticket_id], written
        found = await search(http, records, AGENT, address="幸福路88号")
        assert [f["ticket_id"] for f in found] == [ticket_id]
        assert await search(http, records, AGENT, address="幸福路99号") == []
        assert [
            f["ticket_id"]
            for f in await search(http, records, SUPERVISOR, ticket_type="repair", unit_id=unit)
        ] == [ticket_id]
        export = await http.get(
            f"{records}/tickets/export", params={"ticket_no": ticket_no}, headers=SUPERVISOR
        )
        assert export.status_code == 200 and ticket_no in export.content.decode("utf-8-sig")


async def test_a_repair_the_crew_calls_off_is_called_back_with_the_reason(stack):
    """Closed loop (seed 004 3.4): a crew's "not needed", granted by the duty dispatcher, ends
    the repair like a return does, and the customer is called back, told why. Intake, dispatch, callback and records, each its own
    process, through their public APIs."""
    intake, dispatch, callback, records = (
        stack.url(n) for n in ("intake", "dispatch", "callback", "records")
    )
    unit = f"unit-{uuid.uuid4().hex[:6]}"
    async with stack.http() as http:
        crew = await seed_dispatch(http, dispatch, unit)
        ticket = await record_repair(
            http,
            intake,
            unit,
            description="家里没电了",
            caller_name="钱七",
            phone="13912340001",
            address="和平区幸福路90号",
        )
        ticket_id = ticket["id"]

        order = await assigned_order(http, dispatch, ticket_id)
        t = datetime.now(UTC)
        await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{order['id']}/accept", headers={**crew, **step(t)}
            )
        )
        # The crew asks (申请撤单): nothing closes until the duty dispatcher grants it.
        asked = await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{order['id']}/cancellation",
                json={"reason": "客户告知已自行恢复供电"},
                headers={**crew, **step(t + timedelta(milliseconds=10))},
            )
        )
        assert (asked["status"], asked["cancel_requested"]) == ("accepted", True)
        await ok(
            await http.post(
                f"{dispatch}/work-orders/{order['id']}/cancellation",
                json={"reason": asked["cancel_reason"]},
                headers=SUPERVISOR,
            )
        )

        task = await callback_task(http, callback, ticket_id)
        assert (task["origin"], task["status"]) == ("dispatch", "open")
        assert task["result"] == "经查是客户告知已自行恢复供电，本次抢修已撤销"

        async def callback_due_in_records():
            found = await http.get(f"{records}/tickets/{ticket_id}", headers=SUPERVISOR)
            return found.status_code == 200 and found.json()["status"] == "callback_due"

        await eventually(callback_due_in_records, timeout=60)

        # The history reads as it happened: the crew asked, the dispatcher called it off, then
        # the callback it opened.
        async def life():
            found = await ok(
                await http.get(f"{records}/tickets/{ticket_id}/timeline", headers=SUPERVISOR),
                200,
            )
            entries = found["entries"]
            kinds = [e["kind"] for e in entries]
            wanted = {"work_order.cancel_requested", "work_order.cancelled", "callback.due"}
            return wanted <= set(kinds) and entries

        entries = await eventually(life, timeout=60)
        kinds = [e["kind"] for e in entries]
        assert (
            kinds.index("work_order.cancel_requested")
            < kinds.index("work_order.cancelled")
            < kinds.index("callback.due")
        ), kinds
        [asked_entry] = [e for e in entries if e["kind"] == "work_order.cancel_requested"]
        assert asked_entry["data"]["reason"] == "客户告知已自行恢复供电"


async def test_a_report_is_found_only_by_the_handling_caseworker_without_the_reporter(stack):
    intake, casework, records = (stack.url(n) for n in ("intake", "casework", "records"))
    department = f"dept-{uuid.uuid4().hex[:6]}"
    caseworker = bearer(Role.CASEWORKER, subject="cw-1", department_id=department)
    other_caseworker = bearer(Role.CASEWORKER, subject="cw-2", department_id="dept-elsewhere")
    async with stack.http() as http:
        await ok(
            await http.put(
                f"{casework}/departments/{department}",
                json={"name": "纪检监察", "case_types": ["report"]},
                headers=SUPERVISOR,
            )
        )
        recorded = await ok(
            await http.post(
                f"{intake}/tickets",
                json={
                    "ticket_type": "report",
                    "description": "营业厅工作人员收受红包",
                    "caller_name": "举报人甲",
                    "phone": "13900000001",
                    "address": "光明路2号",
                    "reported_party": "李四",
                },
                headers={**AGENT, "Idempotency-Key": str(uuid.uuid4())},
            ),
            201,
        )
        ticket_id, ticket_no = recorded["id"], recorded["no"]

        async def case():
            found = await ok(
                await http.get(
                    f"{casework}/cases", params={"ticket_id": ticket_id}, headers=SUPERVISOR
                ),
                200,
            )
            return found and found[0]

        opened = await eventually(case, timeout=60)
        await ok(
            await http.post(
                f"{casework}/cases/{opened['id']}/transfer",
                json={"department_id": department},
                headers=SUPERVISOR,
            ),
            200,
        )

        async def caseworker_finds():
            found = await search(http, records, caseworker, ticket_no=ticket_no)
            return found and found[0]

        found = await eventually(caseworker_finds, timeout=60)
        assert found["ticket_id"] == ticket_id and found["confidential"] is True
        assert found["identity_hidden"] is True
        assert found["caller_name"] is None and found["phone"] is None and found["address"] is None
        timeline = await ok(
            await http.get(f"{records}/tickets/{ticket_id}/timeline", headers=caseworker), 200
        )
        assert "case.transferred" in [e["kind"] for e in timeline["entries"]]
        assert "举报人甲" not in str(timeline) and "13900000001" not in str(timeline)
        assert "李四" not in str(timeline["ticket"])

        # The agent who searches by the reporter's phone, number or address finds nothing.
        assert await search(http, records, AGENT, phone="13900000001") == []
        assert await search(http, records, AGENT, ticket_no=ticket_no) == []
        assert await search(http, records, AGENT, address="光明路") == []
        assert (
            await http.get(f"{records}/tickets/{ticket_id}/timeline", headers=AGENT)
        ).status_code == 404
        # Nor does a caseworker of another department, nor the staff member named in it.
        assert await search(http, records, other_caseworker, ticket_no=ticket_no) == []
        named = bearer(Role.SUPERVISOR, subject="sup-9", name="李 四")
        assert await search(http, records, named, ticket_no=ticket_no) == []

        # Every read of the report is audited, refused ones included.
        audit = await ok(
            await http.get(
                f"{records}/audit/confidential-reads",
                params={"ticket_id": ticket_id},
                headers=SUPERVISOR,
            ),
            200,
        )
        reads = {(r["reader"], r["action"], r["granted"]) for r in audit}
        assert {("cw-1", "search", True), ("cw-1", "timeline", True)} <= reads
        assert ("agent-7", "timeline", False) in reads
        assert {r["ticket_no"] for r in audit} == {ticket_no}  # what an auditor looks up


async def test_the_rebuild_from_kafka_ends_equal_to_the_live_view(stack):
    """Runs after the two tests above (same module stack): everything they caused is replayed."""
    records = stack.url("records")
    async with stack.http() as http:
        assert await search(http, records, SUPERVISOR)  # the live view has tickets
    target = f"{stack.env['RECORDS_DATABASE_NAME']}_rebuild"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "brightline.records",
        "rebuild",
        "--database",
        target,
        "--timeout",
        "120",
        env={**os.environ, **stack.env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert "EQUAL" in text, text
