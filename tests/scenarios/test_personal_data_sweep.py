"""No phone number, name or address in clear on Kafka or in any log (issue 17 point 4), with every
service its own process on the real broker.

One caller, known phone, name and address, rings in, reports a fault (repaired and called back),
complains and reports (举报). The services entitled to the caller's details still have them: the
crew sees the address, callback the number to call, casework's vault the contact, records finds
the tickets by phone and address. Then every record of every topic of the run (.dlt included:
key, value and headers) and every process's stdout/stderr capture is searched for the phone in
every usual format, the name and the address: zero hits.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from brightline.messaging.kafka import kafka_auth
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually

pytestmark = pytest.mark.e2e

INTAKE_SWITCH = bearer(Role.INTEGRATION, subject="cti-switch")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-pd")
AGENT = bearer(Role.AGENT, subject="agent-pd", staff_no="4096")
SITE = (30.2741, 120.1551)
WAIT = 90

# Unusual on purpose: any hit is this test's caller, never another test's.
PHONE = "13957210468"
NAME = "欧阳瑾瑜"
ADDRESS = "拱墅区莫干山路1177号5幢"


def phone_formats(phone: str) -> list[str]:
    dashed = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    return [
        phone,
        f"+86{phone}",
        f"+86 {phone}",
        f"86-{phone}",
        f"+86-{dashed}",
        f"+86 {spaced}",
        dashed,
        spaced,
    ]


def needles() -> dict[str, list[bytes]]:
    """Each secret as bytes in UTF-8 and as JSON writes it with ASCII escapes."""
    found: dict[str, list[bytes]] = {}
    for label, values in {
        "phone": phone_formats(PHONE),
        "name": [NAME],
        "address": [ADDRESS],
    }.items():
        forms = []
        for value in values:
            forms.append(value.encode())
            forms.append(json.dumps(value)[1:-1].encode())
        found[label] = list(dict.fromkeys(forms))
    return found


def hits_in(blob: bytes) -> list[str]:
    return [
        f"{label}: {form.decode()!r}"
        for label, forms in needles().items()
        for form in forms
        if form in blob
    ]


def step(at: datetime) -> dict:
    return {"Idempotency-Key": str(uuid.uuid4()), "X-Device-Time": at.isoformat()}


async def ok(response, *codes: int):
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json() if response.content else None


async def seed_dispatch(http, url: str, unit: str) -> dict:
    await ok(
        await http.put(f"{url}/units/{unit}", json={"name": "城区抢修"}, headers=INTAKE_SWITCH)
    )
    await ok(
        await http.put(
            f"{url}/service-areas",
            json={"areas": [{"area_code": f"{unit}-01", "unit_id": unit, "area_class": "urban"}]},
            headers=INTAKE_SWITCH,
        )
    )
    crew = f"{unit}-crew"
    await ok(
        await http.put(
            f"{url}/crews/{crew}", json={"unit_id": unit, "name": "抢修一班"}, headers=INTAKE_SWITCH
        )
    )
    await ok(
        await http.put(
            f"{url}/crews/{crew}/members/{crew}-m1",
            json={"name": "member"},
            headers=INTAKE_SWITCH,
        )
    )
    await ok(
        await http.put(
            f"{url}/crews/{crew}/position",
            json={"latitude": SITE[0] + 0.01, "longitude": SITE[1]},
            headers=INTAKE_SWITCH,
        )
    )
    await ok(await http.put(f"{url}/crews/{crew}/duty", json={"on_duty": True}, headers=SUPERVISOR))
    return bearer(Role.CREW, subject=f"{crew}-m1", crew_id=crew, unit_id=unit)


async def record(http, intake: str, **ticket) -> dict:
    body = {"caller_name": NAME, "address": ADDRESS, **ticket}
    return await ok(
        await http.post(
            f"{intake}/tickets", json=body, headers={**AGENT, "Idempotency-Key": str(uuid.uuid4())}
        ),
        201,
    )


async def every_record_of_the_run(bootstrap: str, prefix: str) -> list:
    """Every record of every topic this run's services use (their prefix), dead letters too,
    read from the beginning to the end offsets taken before reading."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_auth())
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.startswith(prefix))
        assert any(t.endswith(".dlt") for t in topics), topics
        partitions = [
            TopicPartition(t["topic"], p["partition"])
            for t in await admin.describe_topics(topics)
            for p in t["partitions"]
        ]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **kafka_auth()
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records = []

        async def drained():
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for batch in batches.values():
                records.extend(batch)
            return all([await consumer.position(tp) >= end for tp, end in ends.items()])

        await eventually(drained, timeout=WAIT)
        return records
    finally:
        await consumer.stop()


async def test_no_phone_name_or_address_in_clear_on_any_topic_or_in_any_log(stack):
    intake, dispatch, casework, callback, records = (
        stack.url(n) for n in ("intake", "dispatch", "casework", "callback", "records")
    )
    unit = f"unit-{uuid.uuid4().hex[:6]}"
    call_id = f"call-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC).replace(microsecond=0)
    async with stack.http() as http:
        crew = await seed_dispatch(http, dispatch, unit)
        # --- the caller rings in (the switch), and reports a fault: a repair ----------------
        for event, at, extra in (
            (
                "newCall",
                now - timedelta(seconds=30),
                {"callerNumber": PHONE, "calledNumber": "95598", "queue": "repair"},
            ),
            ("answer", now - timedelta(seconds=25), {"agentExtension": "8096"}),
            ("hangup", now - timedelta(seconds=1), {"cause": "normal"}),
        ):
            await ok(
                await http.post(
                    f"{intake}/cti/events",
                    json={"event": event, "callId": call_id, "timestamp": at.isoformat(), **extra},
                    headers=INTAKE_SWITCH,
                )
            )
        repair = await record(
            http,
            intake,
            ticket_type="repair",
            description="家里突然没电了",
            call_id=call_id,
            phone=f"{PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]}",
            area_code=f"{unit}-01",
            latitude=SITE[0],
            longitude=SITE[1],
            fault_scope="own_home",
            fault_started_at=(datetime.now(UTC) - timedelta(minutes=15)).isoformat(),
        )
        # --- a complaint and a report (举报) from the same caller -----------------------------
        complaint = await record(
            http,
            intake,
            ticket_type="complaint",
            description="抄表员态度恶劣",
            phone=f"+86{PHONE}",
            complaint_subtype="service",
        )
        report = await record(
            http,
            intake,
            ticket_type="report",
            description="营业厅工作人员收受红包",
            phone=PHONE,
            reported_party="营业厅某员工",
        )

        # --- the crew repairs: it is told where to go ----------------------------------------
        async def assigned_order():
            found = await ok(
                await http.get(
                    f"{dispatch}/work-orders",
                    params={"ticket_id": repair["id"]},
                    headers=SUPERVISOR,
                )
            )
            return found and found[0]["status"] == "assigned" and found[0]

        order = await eventually(assigned_order, timeout=WAIT)
        oid = order["id"]
        t = datetime.now(UTC)
        await ok(
            await http.post(f"{dispatch}/mobile/orders/{oid}/accept", headers={**crew, **step(t)})
        )
        seen_by_crew = await ok(await http.get(f"{dispatch}/mobile/orders/{oid}", headers=crew))
        assert seen_by_crew["address"] == ADDRESS and seen_by_crew["customer_name"] == NAME
        for n, path, body in (
            (1, "en-route", None),
            (2, "on-site", {"latitude": SITE[0], "longitude": SITE[1]}),
        ):
            await ok(
                await http.post(
                    f"{dispatch}/mobile/orders/{oid}/{path}",
                    json=body,
                    headers={**crew, **step(t + timedelta(milliseconds=10 * n))},
                )
            )
        await ok(
            await http.post(
                f"{dispatch}/mobile/orders/{oid}/resolution",
                json={
                    "cause": "表箱空开跳闸",
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
        await ok(
            await http.post(f"{dispatch}/work-orders/{oid}/return-approval", headers=SUPERVISOR)
        )

        # --- the callback: the agent is given the number to call -----------------------------
        async def take_next():
            response = await http.post(f"{callback}/callback-tasks/next", headers=AGENT)
            return response.status_code == 200 and response.json()

        held = await eventually(take_next, timeout=WAIT)
        assert held["task"]["ticket_id"] == repair["id"]
        assert held["contact"]["phone"].replace("-", "").endswith(PHONE)
        await ok(
            await http.post(
                f"{callback}/callback-tasks/{held['task']['id']}/outcome",
                json={"outcome": "satisfied", "customer_words": "修得很快"},
                headers={**AGENT, "Idempotency-Key": str(uuid.uuid4())},
            )
        )

        # --- casework's vault holds the contacts, opened for the supervisor -------------------
        for ticket in (complaint, report):

            async def case(ticket_id=ticket["id"]):
                found = await ok(
                    await http.get(
                        f"{casework}/cases", params={"ticket_id": ticket_id}, headers=SUPERVISOR
                    )
                )
                return found and found[0]

            opened = await eventually(case, timeout=WAIT)
            contact = await ok(
                await http.get(f"{casework}/cases/{opened['id']}/contact", headers=SUPERVISOR)
            )
            assert (contact["caller_name"], contact["address"]) == (NAME, ADDRESS)
            assert contact["phone"].endswith(PHONE)

        # --- records finds the caller's tickets by phone and by address ----------------------
        async def found_by(**params):
            response = await http.get(f"{records}/tickets", params=params, headers=SUPERVISOR)
            items = (await ok(response))["items"]
            ids = {i["ticket_id"] for i in items}
            return {repair["id"], complaint["id"]} <= ids and ids

        await eventually(lambda: found_by(phone=PHONE), timeout=WAIT)
        await eventually(lambda: found_by(address="莫干山路1177号"), timeout=WAIT)

        async def called_back():
            response = await http.get(f"{records}/tickets/{repair['id']}/timeline", headers=AGENT)
            body = response.json() if response.status_code == 200 else {}
            return body.get("ticket", {}).get("status") == "called_back"

        await eventually(called_back, timeout=WAIT)

    # --- the sweep: every record of every topic, every process's output ----------------------
    kafka = await every_record_of_the_run(
        stack.env["KAFKA_BOOTSTRAP_SERVERS"], stack.env["KAFKA_TOPIC_PREFIX"]
    )
    assert any(repair["id"].encode() in (r.value or b"") for r in kafka)
    exposed = []
    for r in kafka:
        blob = (r.key or b"") + (r.value or b"") + b"".join(v or b"" for _, v in r.headers)
        exposed += [f"{r.topic}@{r.partition}:{r.offset} {hit}" for hit in hits_in(blob)]
    for name, process in stack.processes.items():
        output = process.log_path.read_bytes()
        assert output, f"{name} wrote no log at all"
        exposed += [f"{name} log: {hit}" for hit in hits_in(output)]
    assert not exposed, "personal data in clear:\n" + "\n".join(sorted(set(exposed)))
