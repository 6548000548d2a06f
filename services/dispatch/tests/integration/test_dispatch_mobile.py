"""The crews' phone API over the real broker and database: the whole state machine, offline
replay, the device's own clock, the dispatcher's review of a return (回单审核), and one crew never
reaching another crew's orders."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dispatch_helpers import (
    AGENT,
    SITE,
    SUPERVISOR,
    dispatch_events,
    order_of,
    publish_tickets,
    sign_in,
    ticket,
)

from brightline.platform.testing import eventually

pytestmark = pytest.mark.integration


def step(device_time: datetime, key: str | None = None) -> dict:
    return {"Idempotency-Key": key or str(uuid.uuid4()), "X-Device-Time": device_time.isoformat()}


async def new_order(client, kafka_bootstrap, topic_prefix, **fields) -> dict:
    t = ticket("unit-n-01", latitude=SITE[0], longitude=SITE[1], fault_scope="own_home", **fields)
    await publish_tickets(kafka_bootstrap, topic_prefix, t)
    return await order_of(client, t.ticket_id, status="assigned")


async def offered_at(client, oid: str) -> datetime:
    """The whole second after the order was offered: a step the phone times earlier is recorded
    at the offer (model.check_step_time), one timed from it as the phone says."""
    history = (await client.get(f"/work-orders/{oid}/history", headers=SUPERVISOR)).json()
    offered = max(datetime.fromisoformat(h["at"]) for h in history)
    return offered.replace(microsecond=0) + timedelta(seconds=1)


async def test_whole_state_machine_through_the_phone(client, kafka_bootstrap, topic_prefix):
    order = await new_order(
        client, kafka_bootstrap, topic_prefix, caller_name="王小明", phone="13912345678"
    )
    assert order["crew_id"] == "unit-n-crew-a"  # the nearer of two idle crews
    assert order["area_class"] == "urban"
    crew_a = await sign_in(client, "unit-n-crew-a-m1")
    oid = order["id"]
    # Device times from the offer on, up to minutes ahead of ours: within the phone's clock skew.
    t0 = await offered_at(client, oid)

    listed = await client.get("/mobile/orders", headers=crew_a)
    assert listed.status_code == 200
    assert oid in [o["id"] for o in listed.json()["items"]]
    assert (
        await client.get(
            "/mobile/orders", headers={**crew_a, "If-None-Match": listed.headers["ETag"]}
        )
    ).status_code == 304
    # What is left to do, most urgent first: the crew's open orders by their arrival limit.
    to_do = (await client.get("/mobile/orders", params={"status": "open"}, headers=crew_a)).json()
    assert oid in [o["id"] for o in to_do["items"]]
    assert to_do["total"] == len(to_do["items"])
    limits = [o["arrive_by"] for o in to_do["items"]]
    assert limits == sorted(limits)
    bogus = await client.get("/mobile/orders", params={"status": "done"}, headers=crew_a)
    assert bogus.status_code == 422 and bogus.json()["errors"][0]["field"] == "query.status"

    # Skipping ahead is refused with the allowed next states.
    early = await client.post(
        f"/mobile/orders/{oid}/on-site",
        json={"latitude": 1, "longitude": 2},
        headers={**crew_a, **step(t0)},
    )
    assert early.status_code == 409
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["allowed"] == ["accepted", "cancelled"]
    assert early.json()["status_now"] == "assigned"

    r = await client.post(f"/mobile/orders/{oid}/accept", headers={**crew_a, **step(t0)})
    assert r.status_code == 200, r.text
    assert r.json()["allowed_next"] == ["en_route", "cancelled"]
    # The list changed, so the old ETag no longer matches.
    assert (
        await client.get(
            "/mobile/orders", headers={**crew_a, "If-None-Match": listed.headers["ETag"]}
        )
    ).status_code == 200
    r = await client.post(
        f"/mobile/orders/{oid}/en-route", headers={**crew_a, **step(t0 + timedelta(seconds=4))}
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/mobile/orders/{oid}/on-site",
        json={"latitude": SITE[0], "longitude": SITE[1]},
        headers={**crew_a, **step(t0 + timedelta(seconds=80))},
    )
    assert r.status_code == 200, r.text
    photo = b"\xff\xd8\xff\xe0 a jpeg of the burnt fuse"
    r = await client.post(
        f"/mobile/orders/{oid}/resolution",
        json={
            "cause": "熔断器烧毁",
            "notes": "更换熔断器",
            "device_time": (t0 + timedelta(seconds=160)).isoformat(),
            "photos": [
                {
                    "filename": "fuse.jpg",
                    "content_type": "image/jpeg",
                    "data_base64": base64.b64encode(photo).decode(),
                }
            ],
        },
        headers={**crew_a, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    [stored] = r.json()["photos"]
    fetched = await client.get(f"/mobile/orders/{oid}/photos/{stored['id']}", headers=crew_a)
    assert fetched.content == photo
    r = await client.post(
        f"/mobile/orders/{oid}/return", headers={**crew_a, **step(t0 + timedelta(seconds=180))}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "returned" and r.json()["allowed_next"] == []
    to_do = (await client.get("/mobile/orders", params={"status": "open"}, headers=crew_a)).json()
    assert oid not in [o["id"] for o in to_do["items"]]
    again = await client.post(
        f"/mobile/orders/{oid}/return", headers={**crew_a, **step(t0 + timedelta(seconds=184))}
    )
    assert again.status_code == 409 and again.json()["allowed"] == []

    # 回单审核: the return waits in the duty dispatcher's queue; only a supervisor reviews it.
    waiting = await client.get(
        "/work-orders", params={"status": "awaiting_review"}, headers=SUPERVISOR
    )
    [queued] = [o for o in waiting.json() if o["id"] == oid]
    assert queued["awaiting_review"] and queued["cause"] == "熔断器烧毁"
    # The reviewer sees the site photos the crew sent, byte for byte; nobody else reaches them
    # this way: an agent's role may not, a crew's neither (its own way is the phone's), and a
    # crew that does not hold the order cannot fetch them on its phone.
    photos = await client.get(f"/work-orders/{oid}/photos", headers=SUPERVISOR)
    assert photos.status_code == 200, photos.text
    assert [(p["id"], p["filename"], p["content_type"], p["size"]) for p in photos.json()] == [
        (stored["id"], "fuse.jpg", "image/jpeg", len(photo))
    ]
    assert photos.json()[0]["uploaded_at"]
    seen = await client.get(f"/work-orders/{oid}/photos/{stored['id']}", headers=SUPERVISOR)
    assert seen.status_code == 200 and seen.content == photo
    assert seen.headers["content-type"] == "image/jpeg"
    assert seen.headers["x-content-type-options"] == "nosniff"
    assert seen.headers["cache-control"] == "no-store"
    crew_b = await sign_in(client, "unit-n-crew-b-m1")
    for who in (AGENT, crew_a, crew_b):
        for path in (f"/work-orders/{oid}/photos", f"/work-orders/{oid}/photos/{stored['id']}"):
            refused = await client.get(path, headers=who)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["type"].endswith("forbidden")
    other = await client.get(f"/mobile/orders/{oid}/photos/{stored['id']}", headers=crew_b)
    assert other.status_code == 404 and other.content != photo
    for path, missing in (
        (f"/work-orders/{uuid.uuid4()}/photos", "No such work order"),
        (f"/work-orders/{uuid.uuid4()}/photos/{stored['id']}", "No such photo"),
        (f"/work-orders/{oid}/photos/{uuid.uuid4()}", "No such photo"),
    ):
        unknown = await client.get(path, headers=SUPERVISOR)
        assert unknown.status_code == 404, (path, unknown.text)
        assert unknown.headers["content-type"] == "application/problem+json"
        assert unknown.json()["title"] == missing

    async def alarmed():  # the scanner's gauges: how many wait, and the oldest's wait
        served = (await client.get("/metrics")).text.splitlines()
        gauges = {
            name: float(value)
            for name, _, value in (line.partition(" ") for line in served)
            if name.startswith("dispatch_") and ("review" in name or "cancel" in name)
        }
        return gauges.get("dispatch_returns_awaiting_review", 0) >= 1 and gauges

    gauges = await eventually(alarmed)
    assert gauges["dispatch_oldest_return_awaiting_review_seconds"] >= 0
    assert gauges["dispatch_cancel_requests_waiting"] >= 0  # served beside it
    assert gauges["dispatch_oldest_cancel_request_waiting_seconds"] >= 0
    for who in (AGENT, crew_a):
        refused = await client.post(f"/work-orders/{oid}/return-approval", headers=who)
        assert refused.status_code == 403, refused.text
    blank = await client.post(
        f"/work-orders/{oid}/return-send-back", json={"reason": ""}, headers=SUPERVISOR
    )
    assert blank.status_code == 422 and "reason" in blank.text
    why = "未写明熔断原因，请核实表箱进线"
    sent_back = await client.post(
        f"/work-orders/{oid}/return-send-back", json={"reason": why}, headers=SUPERVISOR
    )
    assert sent_back.status_code == 200, sent_back.text
    assert sent_back.json()["status"] == "on_site" and not sent_back.json()["awaiting_review"]
    # The crew has it on site again, told why, and puts it right (the customer's phone at hand).
    mine = (await client.get(f"/mobile/orders/{oid}", headers=crew_a)).json()
    assert (mine["status"], mine["sent_back_reason"]) == ("on_site", why)
    assert (mine["customer_name"], mine["customer_phone"]) == ("王小明", "13912345678")
    assert mine["allowed_next"] == ["resolved", "cancelled"]
    # Its steps now come after its earlier ones (the same phone's clock, minutes ahead of ours).
    t1 = t0 + timedelta(seconds=190)
    for action, body, at in (
        ("resolution", {"cause": "表箱进线熔丝熔断"}, t1),
        ("return", None, t1 + timedelta(seconds=1)),
    ):
        r = await client.post(
            f"/mobile/orders/{oid}/{action}", json=body, headers={**crew_a, **step(at)}
        )
        assert r.status_code == 200, r.text
    approved = await client.post(
        f"/work-orders/{oid}/return-approval", json={"note": "原因已核实"}, headers=SUPERVISOR
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["reviewed_by"] == "sup-1" and not approved.json()["awaiting_review"]
    twice = await client.post(f"/work-orders/{oid}/return-approval", headers=SUPERVISOR)
    assert twice.status_code == 409 and twice.json()["status_now"] == "returned"
    # Done with: in the crew's history the customer is masked again, as before it accepted.
    done = (await client.get(f"/mobile/orders/{oid}", headers=crew_a)).json()
    assert (done["customer_name"], done["customer_phone"]) == ("王**", "139****5678")
    [listed_done] = [
        o
        for o in (await client.get("/mobile/orders", headers=crew_a)).json()["items"]
        if o["id"] == oid
    ]
    assert listed_done["customer_phone"] == "139****5678"
    waiting = await client.get(
        "/work-orders", params={"status": "awaiting_review"}, headers=SUPERVISOR
    )
    assert oid not in [o["id"] for o in waiting.json()]

    history = (await client.get(f"/work-orders/{oid}/history", headers=SUPERVISOR)).json()
    assert [(h["status"], h["actor"]) for h in history] == [
        ("assigned", "dispatch"),
        ("accepted", "unit-n-crew-a-m1"),
        ("en_route", "unit-n-crew-a-m1"),
        ("on_site", "unit-n-crew-a-m1"),
        ("resolved", "unit-n-crew-a-m1"),
        ("returned", "unit-n-crew-a-m1"),
        ("on_site", "sup-1"),
        ("resolved", "unit-n-crew-a-m1"),
        ("returned", "unit-n-crew-a-m1"),
        ("returned", "sup-1"),
    ]
    assert history[6]["reason"] == why and history[9]["reason"] == "return approved: 原因已核实"
    # Times recorded are the device's, not the server's.
    assert datetime.fromisoformat(history[1]["at"]) == t0
    assert datetime.fromisoformat(history[3]["at"]) == t0 + timedelta(seconds=80)
    assert history[3]["latitude"] == SITE[0]

    # The offer to the crew is said by the created event (v2), every later step by its own.
    [created] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.data.get("work_order_id") == oid and e.type.endswith("created.v2"),
        1,
    )
    offered = created.payload().status_change()
    assert offered is not None and offered.status == "assigned" and offered.crew_id
    changes = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.data.get("work_order_id") == oid and e.type.endswith("status-changed.v1"),
        8,
    )
    # Every step but the approval (no status change: the order stays returned).
    assert [offered.status, *(e.payload().status for e in changes)] == history_statuses(
        history[:-1]
    )
    [returned] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.data.get("work_order_id") == oid and e.type.endswith("returned.v1"),
        1,
    )
    # One returned event, at the review that passed: the crew's second return, its cause.
    assert returned.payload().resolution == "repaired"
    assert returned.payload().cause == "表箱进线熔丝熔断"
    assert returned.payload().returned_at == t1 + timedelta(seconds=1)
    assert returned.payload().reviewed_by == "sup-1" and returned.payload().reviewed_at


def history_statuses(history):
    return [h["status"] for h in history]


async def test_offline_replay_has_one_effect(client, kafka_bootstrap, topic_prefix):
    order = await new_order(client, kafka_bootstrap, topic_prefix)
    crew_a = await sign_in(client, "unit-n-crew-a-m1")
    oid = order["id"]
    offline_at = await offered_at(client, oid)  # accepted at once, sent when back in coverage
    queued = step(offline_at, key="phone-queue-1")

    first = await client.post(f"/mobile/orders/{oid}/accept", headers={**crew_a, **queued})
    replay = await client.post(f"/mobile/orders/{oid}/accept", headers={**crew_a, **queued})
    assert first.status_code == replay.status_code == 200
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json()

    history = (await client.get(f"/work-orders/{oid}/history", headers=SUPERVISOR)).json()
    assert [h["status"] for h in history].count("accepted") == 1
    assert datetime.fromisoformat(history[-1]["at"]) == offline_at
    accepted = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.data.get("work_order_id") == oid and e.data.get("status") == "accepted",
        1,
    )
    assert len(accepted) == 1
    assert accepted[0].payload().changed_at == offline_at

    # Every write needs the key and the device's time.
    no_key = await client.post(
        f"/mobile/orders/{oid}/en-route",
        headers={**crew_a, "X-Device-Time": offline_at.isoformat()},
    )
    assert no_key.status_code == 428
    no_time = await client.post(
        f"/mobile/orders/{oid}/en-route", headers={**crew_a, "Idempotency-Key": "x-2"}
    )
    assert no_time.status_code == 422 and no_time.json()["type"].endswith("/device-time-required")
    future = await client.post(
        f"/mobile/orders/{oid}/en-route",
        headers={**crew_a, **step(datetime.now(UTC) + timedelta(days=1))},
    )
    assert future.status_code == 422
    assert (await client.get(f"/work-orders/{oid}", headers=AGENT)).json()["status"] == "accepted"


async def test_a_crew_never_reaches_another_crews_order(client, kafka_bootstrap, topic_prefix):
    order = await new_order(client, kafka_bootstrap, topic_prefix)
    assert order["crew_id"] == "unit-n-crew-a"
    crew_b = await sign_in(client, "unit-n-crew-b-m1")
    oid = order["id"]

    assert oid not in [
        o["id"] for o in (await client.get("/mobile/orders", headers=crew_b)).json()["items"]
    ]
    read = await client.get(f"/mobile/orders/{oid}", headers=crew_b)
    assert read.status_code == 404 and order["ticket_id"] not in read.text
    accept = await client.post(
        f"/mobile/orders/{oid}/accept", headers={**crew_b, **step(datetime.now(UTC))}
    )
    assert accept.status_code == 404
    # An id longer than any order's is as unknown, not a 500 (its idempotency scope was too
    # long for the column before the order was even looked up).
    for path in ("accept", "en-route"):
        unknown = await client.post(
            f"/mobile/orders/{'x' * 120}/{path}", headers={**crew_b, **step(datetime.now(UTC))}
        )
        assert unknown.status_code == 404, unknown.text
    assert (await client.get(f"/work-orders/{oid}", headers=AGENT)).json()["status"] == "assigned"
    # Crew tokens do not open the staff routes; dispatch signs no one in (the provider does).
    assert (await client.get(f"/work-orders/{oid}", headers=crew_b)).status_code == 403
    sign_in_here = await client.post(
        "/mobile/sessions", json={"member_id": "unit-n-crew-b-m1", "password": "pin-a"}
    )
    assert sign_in_here.status_code in (404, 405)


async def test_fault_in_customer_installation_closes_as_paid_service(
    client, kafka_bootstrap, topic_prefix
):
    order = await new_order(client, kafka_bootstrap, topic_prefix)
    crew_a = await sign_in(client, "unit-n-crew-a-m1")
    oid, now = order["id"], datetime.now(UTC)
    for path, body in (
        ("accept", None),
        ("en-route", None),
        ("on-site", {"latitude": SITE[0], "longitude": SITE[1]}),
    ):
        assert (
            await client.post(
                f"/mobile/orders/{oid}/{path}", json=body, headers={**crew_a, **step(now)}
            )
        ).status_code == 200
    too_big = base64.b64encode(b"x" * (2 * 1024 * 1024 + 1)).decode()
    rejected = await client.post(
        f"/mobile/orders/{oid}/resolution",
        json={
            "cause": "x",
            "photos": [{"filename": "a.jpg", "content_type": "image/jpeg", "data_base64": too_big}],
        },
        headers={**crew_a, **step(now)},
    )
    assert rejected.status_code == 413
    assert rejected.json()["errors"][0]["field"] == "photos.0.data_base64"
    # A page sent as a photo of the repair (or a PNG called a JPEG): not the evidence it claims.
    for content_type, data in (
        ("image/jpeg", b"<html><script>alert(1)</script></html>"),
        ("image/jpeg", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
    ):
        lying = await client.post(
            f"/mobile/orders/{oid}/resolution",
            json={
                "cause": "x",
                "photos": [
                    {
                        "filename": "../../evil.jpg",
                        "content_type": content_type,
                        "data_base64": base64.b64encode(data).decode(),
                    }
                ],
            },
            headers={**crew_a, **step(now)},
        )
        assert lying.status_code == 422, lying.text
        assert lying.json()["errors"][0]["field"] == "photos.0.data_base64"
    resolved = await client.post(
        f"/mobile/orders/{oid}/resolution",
        json={"cause": "户内开关故障", "customer_installation": True},
        headers={**crew_a, **step(now)},
    )
    assert resolved.json()["resolution"] == "paid_service_referral"
    assert (
        await client.post(f"/mobile/orders/{oid}/return", headers={**crew_a, **step(now)})
    ).status_code == 200
    # The crew's judgement that the fault is the customer's own passes review like any return.
    approved = await client.post(f"/work-orders/{oid}/return-approval", headers=SUPERVISOR)
    assert approved.status_code == 200, approved.text
    [returned] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.data.get("work_order_id") == oid and e.type.endswith("returned.v1"),
        1,
    )
    assert returned.payload().resolution == "paid_service_referral"


async def test_supervisor_board_lists_orders_and_crews(client, kafka_bootstrap, topic_prefix):
    order = await new_order(client, kafka_bootstrap, topic_prefix)
    board = (
        await client.get(
            "/work-orders", params={"status": "assigned", "unit_id": "unit-n"}, headers=SUPERVISOR
        )
    ).json()
    assert order["id"] in [o["id"] for o in board]
    crews = (await client.get("/crews", params={"unit_id": "unit-n"}, headers=SUPERVISOR)).json()
    by_id = {c["crew_id"]: c for c in crews}
    assert by_id["unit-n-crew-a"]["latitude"] is not None and by_id["unit-n-crew-a"]["on_duty"]
    assert by_id["unit-n-crew-a"]["open_orders"] >= 1
    moved = await client.put(
        f"/work-orders/{order['id']}/assignment",
        json={"crew_id": "unit-n-crew-b", "reason": "crew A is on a ladder"},
        headers=SUPERVISOR,
    )
    assert moved.status_code == 200 and moved.json()["crew_id"] == "unit-n-crew-b"
    assert (await client.get("/crews", headers=AGENT)).status_code == 403


async def test_an_order_waits_for_a_crew_to_come_on_duty(client, kafka_bootstrap, topic_prefix):
    unit = await client.put("/units/unit-w", json={"name": "W"}, headers=SUPERVISOR)
    assert unit.status_code == 200, unit.text
    assert (
        await client.put(
            "/crews/unit-w-crew", json={"unit_id": "unit-w", "name": "W"}, headers=SUPERVISOR
        )
    ).status_code == 200
    assert (
        await client.put(
            "/service-areas",
            json={
                "areas": [{"area_code": "unit-w-01", "unit_id": "unit-w", "area_class": "rural"}]
            },
            headers=SUPERVISOR,
        )
    ).status_code == 200
    t = ticket("unit-w-01", fault_scope="own_home")
    await publish_tickets(kafka_bootstrap, topic_prefix, t)
    waiting = await order_of(client, t.ticket_id)
    assert (
        waiting["status"] == "created"
        and waiting["crew_id"] is None
        and waiting["area_class"] == "rural"
    )
    assert (
        await client.put("/crews/unit-w-crew/duty", json={"on_duty": True}, headers=SUPERVISOR)
    ).status_code == 200
    assigned = await order_of(client, t.ticket_id, status="assigned")
    assert assigned["crew_id"] == "unit-w-crew"


async def test_my_orders_are_paginated(client, kafka_bootstrap, topic_prefix):
    await new_order(client, kafka_bootstrap, topic_prefix)
    crew_a = await sign_in(client, "unit-n-crew-a-m1")
    page = (await client.get("/mobile/orders", params={"limit": 1}, headers=crew_a)).json()
    rest = (
        await client.get("/mobile/orders", params={"limit": 1, "offset": 1}, headers=crew_a)
    ).json()
    assert len(page["items"]) == 1 and page["total"] >= 2
    assert page["items"][0]["id"] != rest["items"][0]["id"]


async def test_a_phones_position_is_the_newest_fix_of_today(client, kafka_bootstrap, topic_prefix):
    crew_a = await sign_in(client, "unit-n-crew-a-m1")
    now = datetime.now(UTC) + timedelta(seconds=2)  # after the tracker's fix of the fixture

    async def report(at: datetime, lat: float):
        return await client.post(
            "/mobile/position",
            json={"latitude": lat, "longitude": SITE[1], "device_time": at.isoformat()},
            headers={**crew_a, "Idempotency-Key": str(uuid.uuid4())},
        )

    async def where() -> float:
        crews = (
            await client.get("/crews", params={"unit_id": "unit-n"}, headers=SUPERVISOR)
        ).json()
        return next(c for c in crews if c["crew_id"] == "unit-n-crew-a")["latitude"]

    assert (await report(now, 30.3001)).status_code == 204
    assert (await report(now - timedelta(minutes=5), 30.2002)).status_code == 204  # replayed late
    assert await where() == 30.3001
    # A phone reset to its epoch: no place the crew is today.
    epoch = await report(datetime(2000, 1, 1, tzinfo=UTC), 29.0)
    assert epoch.status_code == 422 and epoch.json()["errors"][0]["field"] == "device_time"
    assert await where() == 30.3001
