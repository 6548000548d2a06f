"""Records over the real broker and database, other services' events published onto Kafka as
they would be: a redelivered event changes nothing, an unknown event type is kept, events
arriving in the "wrong" order end in the same view, keyset pages, search filters, exports."""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from brightline.contracts import Event, new_event, to_record
from brightline.contracts.events.dispatch import WorkOrderCreatedV1, WorkOrderStatusChangedV1
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.contracts.events.sla import DeadlineBreachedV1
from brightline.contracts.topics import DISPATCH_WORK_ORDERS
from brightline.messaging import create_producer, prefixed
from brightline.messaging.testing import publish, publish_events
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running
from brightline.records.main import create_app
from brightline.records.settings import RecordsSettings

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
AGENT = bearer(Role.AGENT, subject="agent-3")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
async def records(infra_env, db_name):
    app = create_app(RecordsSettings(database_name=db_name("records"), **infra_env))
    async with running(app) as client:
        yield client


def recorded(n: int, **kw) -> TicketRecordedV1:
    return TicketRecordedV1(
        **{
            "ticket_id": f"t-{uuid.uuid4().hex[:10]}",
            "ticket_no": f"20261201{uuid.uuid4().int % 10**8:08d}",
            "ticket_type": "repair",
            "recorded_at": T0 + timedelta(minutes=n),
            "first_ask_owner": "agent-3",
            "description": "停电",
            "caller_name": "钱七",
            "phone": "+86 138 0013 8000",
            "address": f"南开区建设路{n}号",
            **kw,
        }
    )


async def publish_unknown(bootstrap: str, prefix: str, topic: str, event: Event) -> None:
    """An event whose type is in no contract of this build (Event.topic cannot name its topic)."""
    producer = create_producer(bootstrap, "test-publisher")
    await producer.start()
    try:
        record = to_record(event)
        await producer.send_and_wait(
            prefixed(prefix, topic), value=record.value, key=record.key, headers=record.headers
        )
    finally:
        await producer.stop()


async def search(client, headers=SUPERVISOR, **params) -> dict:
    response = await client.get("/tickets", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_redelivery_unknown_types_and_out_of_order_events(records, infra_env):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    ticket = recorded(1)
    order = "wo-" + uuid.uuid4().hex[:8]
    on_site = WorkOrderStatusChangedV1(
        work_order_id=order,
        ticket_id=ticket.ticket_id,
        unit_id="unit-7",
        status="on_site",
        previous_status="en_route",
        changed_at=T0 + timedelta(minutes=30),
    )
    created = WorkOrderCreatedV1(
        work_order_id=order,
        ticket_id=ticket.ticket_id,
        unit_id="unit-7",
        area_class="urban",
        created_at=T0 + timedelta(minutes=2),
    )
    breached = DeadlineBreachedV1(
        deadline_id="d-" + uuid.uuid4().hex[:6],
        limit_key="repair.arrival.urban",
        policy_pack="seed",
        subject_type="work_order",
        subject_id=order,
        ticket_id=ticket.ticket_id,
        due_at=T0 + timedelta(minutes=25),
        breached_at=T0 + timedelta(minutes=25),
    )
    # The later step first, the recording last: the view must still end at on_site.
    events = [new_event(p, source="/brightline/test") for p in (on_site, breached, created)]
    await publish_events(bootstrap, prefix, events)
    await publish_events(bootstrap, prefix, [events[0]])  # a redelivery of the same event
    # An event type this build has never heard of, on a topic records reads.
    unknown = Event(
        type="brightline.dispatch.work-order.photo-added.v9",
        source="/brightline/dispatch",
        subject=order,
        data={"work_order_id": order, "ticket_id": ticket.ticket_id, "photos": 2},
        time=T0 + timedelta(minutes=31),
    )
    await publish_unknown(bootstrap, prefix, DISPATCH_WORK_ORDERS.name, unknown)
    [published] = await publish(bootstrap, prefix, ticket, source="/brightline/intake")

    async def timeline():
        r = await records.get(f"/tickets/{ticket.ticket_id}/timeline", headers=SUPERVISOR)
        return r.status_code == 200 and len(r.json()["entries"]) >= 5 and r.json()

    body = await eventually(timeline)
    kinds = [e["kind"] for e in body["entries"]]
    assert kinds == [
        "ticket.recorded",
        "work_order.created",
        "deadline.breached",
        "work_order.on_site",
        "other",
    ]
    assert body["entries"][-1]["data"]["photos"] == 2
    view = body["ticket"]
    assert view["status"] == "on_site" and view["unit_id"] == "unit-7"
    assert view["has_breached"] is True and view["owner"] == "agent-3"
    # Redelivering the recording changes nothing either.
    await publish_events(bootstrap, prefix, [published])
    found = await search(records, ticket_no=ticket.ticket_no)
    assert [t["ticket_id"] for t in found["items"]] == [ticket.ticket_id]
    assert (await search(records, ticket_no=ticket.ticket_no, has_breached="false"))["items"] == []


async def test_keyset_pages_filters_and_exports(records, infra_env):
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    street = f"路{uuid.uuid4().hex[:4]}"
    tickets = [recorded(n, address=f"河西区{street}{n}号") for n in range(7)]
    await publish(bootstrap, prefix, *tickets, source="/brightline/intake")

    async def all_in():
        return len((await search(records, address=street, limit=50))["items"]) == 7

    await eventually(all_in)
    seen, cursor = [], None
    while True:
        page = await search(
            records, address=street, limit=3, **({"cursor": cursor} if cursor else {})
        )
        seen += [t["ticket_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [t.ticket_id for t in reversed(tickets)]  # newest first, no gaps, no repeats
    day = (T0 + timedelta(minutes=3)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    on_day = await search(records, address=street, recorded_from=day, recorded_to=day)
    assert len(on_day["items"]) == 7
    before = (day - timedelta(days=1)).isoformat()
    assert (await search(records, address=street, recorded_to=before))["items"] == []
    assert (await search(records, address=street, ticket_type="complaint"))["items"] == []
    bad = await records.get("/tickets", params={"cursor": "nonsense"}, headers=SUPERVISOR)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    assert (await records.get("/tickets", params={"phone": "--"}, headers=AGENT)).status_code == 422

    csv = await records.get("/tickets/export", params={"address": street}, headers=SUPERVISOR)
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("工单号") and len(lines) == 8
    xlsx = await records.get(
        "/tickets/export", params={"address": street, "format": "xlsx"}, headers=SUPERVISOR
    )
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 8 and rows[1][0] == tickets[-1].ticket_no
    assert (await records.get("/tickets/export", headers=AGENT)).status_code == 403


async def test_a_caller_withheld_is_neither_searched_for_nor_led_to(records, infra_env):
    """A complaint's caller is shown to its first-ask owner and the supervisor only; another agent
    finds the complaint, but a search by the caller's phone, name or address does not match it
    (a match would say who complained), and its timeline does not give the call's id (intake
    answers a call's id with the caller's number)."""
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    phone, street = f"139{uuid.uuid4().int % 10**8:08d}", f"路{uuid.uuid4().hex[:4]}"
    others = recorded(
        1,
        ticket_type="complaint",
        first_ask_owner="agent-9",
        phone=phone,
        address=f"河东区{street}1号",
        call_id=f"call-{uuid.uuid4().hex[:8]}",
    )
    own = recorded(2, ticket_type="complaint", phone=phone, address=f"河东区{street}2号")
    await publish(bootstrap, prefix, others, own, source="/brightline/intake")

    async def both_in():
        return len((await search(records, phone=phone))["items"]) == 2

    await eventually(both_in)
    for params in ({"phone": phone}, {"address": street}, {"name": "钱七"}):
        found = [t["ticket_id"] for t in (await search(records, AGENT, **params))["items"]]
        assert others.ticket_id not in found and own.ticket_id in found, params
    listed = (await search(records, AGENT, ticket_type="complaint", limit=200))["items"]
    shown = next(t for t in listed if t["ticket_id"] == others.ticket_id)
    assert shown["identity_hidden"] and shown["phone"] is None

    async def timeline(headers) -> dict:
        got = await records.get(f"/tickets/{others.ticket_id}/timeline", headers=headers)
        assert got.status_code == 200, got.text
        return got.json()

    assert {e["call_id"] for e in (await timeline(SUPERVISOR))["entries"]} == {others.call_id}
    assert {e["call_id"] for e in (await timeline(AGENT))["entries"]} == {None}

    # A cursor naming a time PostgreSQL cannot be sent is refused like any other bad cursor.
    for at in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        crafted = base64.urlsafe_b64encode(json.dumps([at, "x"]).encode()).decode()
        bad = await records.get("/tickets", params={"cursor": crafted}, headers=SUPERVISOR)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor", at
