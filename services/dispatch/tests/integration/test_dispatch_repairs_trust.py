"""Repairs and outages a dispatcher can trust (issue 14), over the real broker and database:
no phantom outages from one household, an incident life that closes, one arrival clock per
incident from the ticket's 受理, a needs-routing queue, step times that cannot lie, reopened
repairs, and what a crew needs on its phone."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dispatch_helpers import (
    AGENT,
    INTEGRATION,
    SITE,
    SUPERVISOR,
    dispatch_events,
    order_of,
    publish_tickets,
    sign_in,
    ticket,
    topology,
)

from brightline.contracts.events.callback import ReopenRequestedV1
from brightline.dispatch.domain.model import OPEN_STATUSES
from brightline.messaging.testing import publish
from brightline.platform.testing import eventually

pytestmark = pytest.mark.integration


def step(device_time: datetime, key: str | None = None) -> dict:
    return {"Idempotency-Key": key or str(uuid.uuid4()), "X-Device-Time": device_time.isoformat()}


async def incidents_on(client, transformer: str) -> list[dict]:
    return [
        i
        for i in (await client.get("/outages", headers=SUPERVISOR)).json()
        if i["transformer_id"] == transformer
    ]


async def crewed(client, ticket_id: str) -> dict:
    async def check():
        found = (
            await client.get("/work-orders", params={"ticket_id": ticket_id}, headers=AGENT)
        ).json()
        return found and found[0]["crew_id"] and found[0]

    return await eventually(check)


# The crew's whole path and the duty dispatcher passing its return (回单审核).
TO_A_PASSED_RETURN = ("accept", "en-route", "on-site", "resolution", "return", "approval")


async def released_once(kafka_bootstrap, topic_prefix, ticket_id: str):
    """The one release of a linked consultation (a second one would be drained and fail this)."""
    [released] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.type.endswith("linked-ticket.released.v1") and e.data["ticket_id"] == ticket_id,
        1,
    )
    return released.payload()


async def walk(client, crew: dict, order_id: str, *steps: str, cause: str = "熔丝熔断") -> None:
    at = datetime.now(UTC)
    bodies = {
        "accept": None,
        "en-route": None,
        "on-site": {"latitude": SITE[0], "longitude": SITE[1]},
        "resolution": {"cause": cause, "notes": "更换熔丝"},
        "return": None,
    }
    for i, path in enumerate(steps):
        if path == "approval":  # the duty dispatcher passes the return (回单审核)
            r = await client.post(f"/work-orders/{order_id}/return-approval", headers=SUPERVISOR)
        else:
            r = await client.post(
                f"/mobile/orders/{order_id}/{path}",
                json=bodies[path],
                headers={**crew, **step(at + timedelta(milliseconds=10 * i))},
            )
        assert r.status_code == 200, r.text


# --- 1. one household's own fault is never an area outage ------------------------------------


async def test_one_household_is_a_crewed_repair_and_only_several_meters_make_an_incident(
    client, kafka_bootstrap, topic_prefix
):
    transformer, meters = await topology(client)
    first = ticket("unit-n-01", meter_no=meters[0], fault_scope="own_home")
    await publish_tickets(kafka_bootstrap, topic_prefix, first)
    order = await crewed(client, first.ticket_id)
    assert order["incident_id"] is None and order["is_lead"]
    second = ticket("unit-n-01", meter_no=meters[1], fault_scope="own_home", address="幸福路2号")
    await publish_tickets(kafka_bootstrap, topic_prefix, second)
    order2 = await crewed(client, second.ticket_id)
    assert order2["incident_id"] is None
    assert await incidents_on(client, transformer) == []

    # A third home under the same transformer: now the equipment is the likely fault.
    third = ticket("unit-n-01", meter_no=meters[2], fault_scope="own_home", address="幸福路3号")
    await publish_tickets(kafka_bootstrap, topic_prefix, third)

    async def formed():
        found = await incidents_on(client, transformer)
        return len(found) == 1 and len(found[0]["linked_ticket_ids"]) == 3 and found[0]

    incident = await eventually(formed)
    assert incident["lead_work_order_id"] == order["id"]  # the earliest, already crewed
    assert incident["status"] == "confirmed"
    third_order = await order_of(client, third.ticket_id)
    assert third_order["crew_id"] is None and not third_order["is_lead"]
    [declared] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.type.endswith("outage.declared.v1") and e.data["incident_id"] == incident["id"],
        1,
        outages=True,
    )
    # The incident covers its equipment's meters, not the whole service area.
    assert set(declared.payload().meter_nos) == set(meters)
    assert declared.payload().transformer_id == transformer


async def test_a_home_without_a_located_meter_never_clusters_by_place(
    client, kafka_bootstrap, topic_prefix
):
    lat, lon = SITE[0] + 0.7, SITE[1] + 0.7
    homes = [
        ticket("unit-n-01", fault_scope="own_home", latitude=lat, longitude=lon, address=f"路{i}号")
        for i in range(3)
    ]
    await publish_tickets(kafka_bootstrap, topic_prefix, *homes)
    for home in homes:
        order = await crewed(client, home.ticket_id)
        assert order["incident_id"] is None and order["is_lead"]


# --- 2, 3, 4. the incident's life, its one clock, the clock's start ---------------------------


async def test_incident_life_from_suspected_to_restored_by_the_grid_side(
    client, kafka_bootstrap, topic_prefix
):
    transformer, meters = await topology(client)
    recorded_at = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
    lead_ticket = ticket(
        "unit-n-01", meter_no=meters[0], fault_scope="building", recorded_at=recorded_at
    )
    await publish_tickets(kafka_bootstrap, topic_prefix, lead_ticket)
    lead = await crewed(client, lead_ticket.ticket_id)
    [incident] = await incidents_on(client, transformer)
    assert incident["status"] == "suspected" and incident["lead_work_order_id"] == lead["id"]
    # 4. The arrival clock starts at the ticket's 受理, not when dispatch got to it.
    assert datetime.fromisoformat(lead["reported_at"]) == recorded_at

    follower_ticket = ticket("unit-n-01", meter_no=meters[1], fault_scope="area")
    await publish_tickets(kafka_bootstrap, topic_prefix, follower_ticket)
    follower = await order_of(client, follower_ticket.ticket_id)
    assert follower["incident_id"] == incident["id"] and follower["crew_id"] is None
    assert (await client.get(f"/outages/{incident['id']}", headers=AGENT)).json()[
        "status"
    ] == "confirmed"

    # 3. One clock for the incident: the lead's order opens one, the follower's does not.
    created = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.type.endswith("work-order.created.v2")
            and e.data["ticket_id"] in (lead_ticket.ticket_id, follower_ticket.ticket_id)
        ),
        2,
    )
    by_ticket = {e.data["ticket_id"]: e.payload() for e in created}
    assert by_ticket[lead_ticket.ticket_id].is_lead
    assert by_ticket[lead_ticket.ticket_id].reported_at == recorded_at
    assert not by_ticket[follower_ticket.ticket_id].is_lead
    assert by_ticket[follower_ticket.ticket_id].incident_id == incident["id"]

    # A repeat call intake linked as a consultation: the incident knows it too.
    consultation = ticket(
        "unit-n-01",
        ticket_type="consultation",
        meter_no=meters[2],
        linked_incident_id=incident["id"],
    )
    await publish_tickets(kafka_bootstrap, topic_prefix, consultation)

    async def knows_all():
        found = (await client.get(f"/outages/{incident['id']}", headers=AGENT)).json()
        return len(found["linked_ticket_ids"]) == 3 and found

    known = await eventually(knows_all)
    assert consultation.ticket_id in known["linked_ticket_ids"]

    crew = await sign_in(client, f"{lead['crew_id']}-m1")
    await walk(client, crew, lead["id"], "accept", "en-route", "on-site")
    on_site = (await client.get(f"/outages/{incident['id']}", headers=AGENT)).json()
    assert on_site["status"] == "crew_on_site" and on_site["crew_on_site_at"]

    async def open_ids() -> set[str]:
        rows = await client.get("/outages", params={"status": "open", "limit": 200}, headers=AGENT)
        return {i["id"] for i in rows.json()}

    assert incident["id"] in await open_ids()

    # A restoration time that cannot be true is refused, naming the field; nothing changes.
    future = await client.post(
        f"/outages/{incident['id']}/restoration",
        json={"restored_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
        headers=INTEGRATION,
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "restored_at"
    assert (await client.get(f"/outages/{incident['id']}", headers=AGENT)).json()[
        "status"
    ] == "crew_on_site"

    # The grid side (OMS/SCADA) reports the restoration through the integration API.
    restored = await client.post(
        f"/outages/{incident['id']}/restoration", json={}, headers=INTEGRATION
    )
    assert restored.status_code == 200, restored.text
    closed = (await client.get(f"/outages/{incident['id']}", headers=AGENT)).json()
    assert closed["status"] == "restored" and closed["restored_by"] == "grid"
    assert incident["id"] not in await open_ids()
    again = await client.post(f"/outages/{incident['id']}/restoration", json={}, headers=SUPERVISOR)
    assert again.status_code == 409 and again.json()["status_now"] == "restored"

    [done] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.type.endswith("outage.restored.v1") and e.data["incident_id"] == incident["id"],
        1,
        outages=True,
    )
    assert set(done.payload().ticket_ids) == {
        lead_ticket.ticket_id,
        follower_ticket.ticket_id,
        consultation.ticket_id,
    }
    assert done.payload().restored_by == "grid"
    [released] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.type.endswith("linked-ticket.released.v1")
            and e.data["ticket_id"] == consultation.ticket_id
        ),
        1,
    )
    assert released.payload().reason == "incident_restored"
    assert released.payload().incident_id == incident["id"]

    # A call after restoration is a new repair with its own crew, not folded into the old one.
    after = ticket("unit-n-01", meter_no=meters[3], fault_scope="building")
    await publish_tickets(kafka_bootstrap, topic_prefix, after)
    new_order = await crewed(client, after.ticket_id)
    assert new_order["incident_id"] != incident["id"] and new_order["is_lead"]

    # A repeat call linked to the incident that dispatch hears of only after restoration is
    # released at once.
    late = ticket(
        "unit-n-01",
        ticket_type="consultation",
        meter_no=meters[2],
        linked_incident_id=incident["id"],
    )
    await publish_tickets(kafka_bootstrap, topic_prefix, late)
    assert await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.type.endswith("linked-ticket.released.v1") and e.data["ticket_id"] == late.ticket_id
        ),
        1,
    )


async def test_a_supervisor_cancels_an_incident_and_each_home_gets_its_own_crew(
    client, kafka_bootstrap, topic_prefix
):
    transformer, meters = await topology(client)
    reports = [
        ticket("unit-n-01", meter_no=m, fault_scope="building", address=f"幸福路{i}号")
        for i, m in enumerate(meters[:2])
    ]
    await publish_tickets(kafka_bootstrap, topic_prefix, reports[0])
    await crewed(client, reports[0].ticket_id)
    await publish_tickets(kafka_bootstrap, topic_prefix, reports[1])
    follower = await order_of(client, reports[1].ticket_id)
    assert follower["crew_id"] is None
    [incident] = await incidents_on(client, transformer)
    # A repeat call intake linked to the incident (a consultation dispatch never had an order for).
    repeat = ticket(
        "unit-n-01",
        ticket_type="consultation",
        meter_no=meters[2],
        address="幸福路9号",
        linked_incident_id=incident["id"],
    )
    await publish_tickets(kafka_bootstrap, topic_prefix, repeat)

    async def knows_repeat():
        found = (await client.get(f"/outages/{incident['id']}", headers=AGENT)).json()
        return repeat.ticket_id in found["linked_ticket_ids"]

    await eventually(knows_repeat)

    refused = await client.post(
        f"/outages/{incident['id']}/cancellation", json={"reason": "x"}, headers=AGENT
    )
    assert refused.status_code == 403
    cancelled = await client.post(
        f"/outages/{incident['id']}/cancellation",
        json={"reason": "现场核实为两户各自的户内故障"},
        headers=SUPERVISOR,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "现场核实为两户各自的户内故障"
    own = await crewed(client, reports[1].ticket_id)
    assert own["incident_id"] is None and own["is_lead"]
    # It had no arrival clock while folded in; standing for itself, it gets one from its 受理.
    [promoted] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.type.endswith("work-order.promoted.v2") and e.data["work_order_id"] == own["id"]
        ),
        1,
    )
    assert promoted.payload().reason == "incident_cancelled"
    assert promoted.payload().reported_at == reports[1].recorded_at
    # The crew's arrive-by is that clock's, written with the promotion (at its commit) and said
    # by the promoted event.
    assert own["arrive_by"] is not None
    assert promoted.payload().arrive_by == datetime.fromisoformat(own["arrive_by"])
    assert datetime.fromisoformat(own["arrive_by"]) == reports[1].recorded_at + timedelta(
        minutes=45 if own["area_class"] == "urban" else 90 if own["area_class"] == "rural" else 120
    )
    # The linked repeat caller had no power either: a repair of their own, with a crew.
    theirs = await crewed(client, repeat.ticket_id)
    assert theirs["incident_id"] is None and theirs["is_lead"]
    # A repeat call linked to the cancelled incident after the fact is a repair of its own too.
    late = ticket(
        "unit-n-01",
        ticket_type="consultation",
        meter_no=meters[3],
        address="幸福路10号",
        linked_incident_id=incident["id"],
    )
    await publish_tickets(kafka_bootstrap, topic_prefix, late)
    assert (await crewed(client, late.ticket_id))["incident_id"] is None


# --- 5. orders nobody could route ------------------------------------------------------------


async def test_an_unmapped_area_goes_to_the_needs_routing_queue_and_is_routed_by_hand(
    client, kafka_bootstrap, topic_prefix
):
    lost = ticket("nowhere-42", fault_scope="own_home")
    await publish_tickets(kafka_bootstrap, topic_prefix, lost)
    order = await order_of(client, lost.ticket_id)
    assert order["needs_routing"] and order["crew_id"] is None
    assert order["unit_id"] == "needs-routing"

    async def queued():
        rows = (await client.get("/work-orders/needs-routing", headers=SUPERVISOR)).json()
        return [o for o in rows if o["id"] == order["id"]]

    await eventually(queued)

    async def alarmed():
        metrics = (await client.get("/metrics")).text
        line = [m for m in metrics.splitlines() if m.startswith("dispatch_orders_needing_routing")]
        return line and float(line[0].split()[-1]) >= 1

    await eventually(alarmed)

    body = {"unit_id": "unit-n", "area_class": "rural", "reason": "新建小区，尚未录入台区"}
    assert (
        await client.put(f"/work-orders/{order['id']}/routing", json=body, headers=AGENT)
    ).status_code == 403
    unknown = await client.put(
        f"/work-orders/{order['id']}/routing",
        json={**body, "unit_id": "unit-nowhere"},
        headers=SUPERVISOR,
    )
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "unit_id"
    routed = await client.put(f"/work-orders/{order['id']}/routing", json=body, headers=SUPERVISOR)
    assert routed.status_code == 200, routed.text
    assert routed.json()["unit_id"] == "unit-n" and routed.json()["area_class"] == "rural"
    assert routed.json()["crew_id"] and not routed.json()["needs_routing"]
    assert not await queued()
    again = await client.put(f"/work-orders/{order['id']}/routing", json=body, headers=SUPERVISOR)
    assert again.status_code == 409
    history = (await client.get(f"/work-orders/{order['id']}/history", headers=SUPERVISOR)).json()
    assert any("routed by hand to unit-n" in (h["reason"] or "") for h in history)


async def test_the_board_reads_the_open_orders_most_urgent_first_with_the_acts_each_allows(
    client, kafka_bootstrap, topic_prefix
):
    """The dispatcher board reads `status=open`: returned and cancelled orders leave it however
    new they are, the most urgent come first, and each order says what the dispatcher may still
    do with it, which dispatch then holds to."""
    done, dropped, waiting = (
        ticket("unit-n-01", fault_scope="own_home", latitude=SITE[0], longitude=SITE[1])
        for _ in range(3)
    )
    lost = ticket("nowhere-43", fault_scope="own_home")
    await publish_tickets(kafka_bootstrap, topic_prefix, done, dropped, waiting, lost)
    finished = await crewed(client, done.ticket_id)
    crew = await sign_in(client, f"{finished['crew_id']}-m1")
    await walk(
        client, crew, finished["id"], "accept", "en-route", "on-site", "resolution", "return"
    )
    cancelled = await crewed(client, dropped.ticket_id)
    assert (
        await client.post(
            f"/work-orders/{cancelled['id']}/cancellation",
            json={"reason": "重复报修"},
            headers=SUPERVISOR,
        )
    ).status_code == 200
    assigned = await crewed(client, waiting.ticket_id)
    unrouted = await order_of(client, lost.ticket_id)

    board = (
        await client.get("/work-orders", params={"status": "open", "limit": 500}, headers=AGENT)
    ).json()
    by_id = {o["id"]: o for o in board}
    assert finished["id"] not in by_id and cancelled["id"] not in by_id
    assert by_id[assigned["id"]]["dispatcher_acts"] == ["reassign", "cancel"]
    assert by_id[unrouted["id"]]["dispatcher_acts"] == ["route", "cancel"]
    assert {o["status"] for o in board} <= set(OPEN_STATUSES)
    limits = [o["arrive_by"] for o in board]
    dated = [datetime.fromisoformat(a) for a in limits if a]
    assert dated == sorted(dated) and limits == [
        *(a for a in limits if a),
        *(a for a in limits if not a),
    ]

    # A crew is picked for an order a unit has; an unrouted one is routed first.
    refused = await client.put(
        f"/work-orders/{unrouted['id']}/assignment",
        json={"crew_id": assigned["crew_id"], "reason": "就近"},
        headers=SUPERVISOR,
    )
    assert refused.status_code == 409 and "route the order to a unit first" in refused.text
    assert (await order_of(client, lost.ticket_id))["crew_id"] is None
    # Once a crew accepts, the dispatcher may still cancel but no longer move it.
    crew = await sign_in(client, f"{assigned['crew_id']}-m1")
    await walk(client, crew, assigned["id"], "accept")
    accepted = (await client.get(f"/work-orders/{assigned['id']}", headers=AGENT)).json()
    assert accepted["dispatcher_acts"] == ["cancel"]

    bogus = await client.get("/work-orders", params={"status": "lost"}, headers=AGENT)
    assert bogus.status_code == 422 and bogus.json()["errors"][0]["field"].endswith("status")


# --- 6. step times that cannot be true ------------------------------------------------------


async def test_a_phone_behind_our_clock_records_its_steps_at_the_offer_not_before(
    client, kafka_bootstrap, topic_prefix
):
    """A phone a few minutes slow is within the clock skew allowed; its steps are recorded no
    earlier than the offer (the board and the timeline showed the crew on site before the ticket
    was recorded)."""
    t = ticket("unit-n-01", fault_scope="own_home", latitude=SITE[0], longitude=SITE[1])
    await publish_tickets(kafka_bootstrap, topic_prefix, t)
    order = await crewed(client, t.ticket_id)
    crew = await sign_in(client, f"{order['crew_id']}-m1")
    oid = order["id"]
    history = (await client.get(f"/work-orders/{oid}/history", headers=SUPERVISOR)).json()
    offered = max(datetime.fromisoformat(h["at"]) for h in history)
    slow = offered - timedelta(seconds=200)
    for n, path in enumerate(("accept", "en-route")):
        moved = await client.post(
            f"/mobile/orders/{oid}/{path}", headers={**crew, **step(slow + timedelta(seconds=n))}
        )
        assert moved.status_code == 200, moved.text
    history = (await client.get(f"/work-orders/{oid}/history", headers=SUPERVISOR)).json()
    steps = {h["status"]: datetime.fromisoformat(h["at"]) for h in history}
    assert steps["accepted"] == offered and steps["en_route"] == offered
    board = (await client.get(f"/work-orders/{oid}", headers=AGENT)).json()
    assert datetime.fromisoformat(board["updated_at"]) >= datetime.fromisoformat(
        board["created_at"]
    )


async def test_impossible_step_times_are_refused_naming_the_field_and_write_nothing(
    client, kafka_bootstrap, topic_prefix
):
    t = ticket("unit-n-01", fault_scope="own_home", latitude=SITE[0], longitude=SITE[1])
    await publish_tickets(kafka_bootstrap, topic_prefix, t)
    order = await crewed(client, t.ticket_id)
    crew = await sign_in(client, f"{order['crew_id']}-m1")
    oid, now = order["id"], datetime.now(UTC)

    accepted_at = now
    r = await client.post(f"/mobile/orders/{oid}/accept", headers={**crew, **step(accepted_at)})
    assert r.status_code == 200, r.text
    before = (await client.get(f"/work-orders/{oid}/history", headers=SUPERVISOR)).json()

    for bad in (
        now - timedelta(days=3 * 365),  # years in the past
        now - timedelta(days=2),  # older than the offline window
        accepted_at - timedelta(seconds=1),  # before the previous step
        now - timedelta(minutes=30),  # before the order existed
        now + timedelta(hours=1),  # in the future
    ):
        key = str(uuid.uuid4())
        refused = await client.post(
            f"/mobile/orders/{oid}/en-route", headers={**crew, **step(bad, key)}
        )
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["errors"][0]["field"] == "device_time"
        # Nothing written, not even the idempotency key: the same key works with a true time.
        assert (await client.get(f"/work-orders/{oid}", headers=AGENT)).json()[
            "status"
        ] == "accepted"
    after = (await client.get(f"/work-orders/{oid}/history", headers=SUPERVISOR)).json()
    assert after == before
    changed = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: e.data.get("work_order_id") == oid and e.data.get("status") == "en_route",
        0,
        timeout=2,
    )
    assert changed == []

    fine = await client.post(
        f"/mobile/orders/{oid}/en-route",
        headers={**crew, **step(accepted_at + timedelta(seconds=1), key)},
    )
    assert fine.status_code == 200, fine.text
    history = (await client.get(f"/work-orders/{oid}/history", headers=SUPERVISOR)).json()
    last = history[-1]
    # The device's time and the server's receipt time, side by side.
    assert datetime.fromisoformat(last["at"]) == accepted_at + timedelta(seconds=1)
    assert datetime.fromisoformat(last["recorded_at"]) >= now


# --- 7. an unsatisfied callback reopens the repair ------------------------------------------


async def test_an_unsatisfied_callback_reopens_the_repair_as_a_new_linked_order(
    client, kafka_bootstrap, topic_prefix
):
    t = ticket("unit-n-01", fault_scope="own_home", latitude=SITE[0], longitude=SITE[1])
    await publish_tickets(kafka_bootstrap, topic_prefix, t)
    first = await crewed(client, t.ticket_id)
    crew = await sign_in(client, f"{first['crew_id']}-m1")
    await walk(client, crew, first["id"], "accept", "en-route", "on-site", "resolution", "return")

    requested_at = datetime.now(UTC).replace(microsecond=0)
    await publish(
        kafka_bootstrap,
        topic_prefix,
        # Casework's and intake's reopen requests are theirs; this one is dispatch's.
        ReopenRequestedV1(
            ticket_id=t.ticket_id,
            task_id="task-1",
            origin="intake",
            reason="not ours",
            requested_at=requested_at,
        ),
        ReopenRequestedV1(
            ticket_id=t.ticket_id,
            task_id="task-2",
            origin="dispatch",
            reason="又停电了",
            customer_words="开关合上又跳",
            requested_at=requested_at,
        ),
        source="/brightline/callback",
    )

    async def reopened():
        found = (
            await client.get("/work-orders", params={"ticket_id": t.ticket_id}, headers=AGENT)
        ).json()
        return len(found) == 2 and found[0]["crew_id"] and found

    newest, older = await eventually(reopened)
    assert older["id"] == first["id"] and older["status"] == "returned"
    assert newest["reopened_from"] == first["id"] and newest["status"] == "assigned"
    assert datetime.fromisoformat(newest["reported_at"]) == requested_at
    [created] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.type.endswith("work-order.created.v2") and e.data["work_order_id"] == newest["id"]
        ),
        1,
    )
    assert created.payload().reopened_from_work_order_id == first["id"]
    assert created.payload().is_lead  # its own arrival clock
    # On the board, among the unit's orders.
    board = (
        await client.get("/work-orders", params={"unit_id": "unit-n", "limit": 500}, headers=AGENT)
    ).json()
    assert newest["id"] in [o["id"] for o in board]


async def test_a_consultation_linked_to_a_repair_closes_with_it_and_can_be_reopened(
    client, kafka_bootstrap, topic_prefix
):
    """Issue 15, point 3: a repeat call linked to one repair is released when the crew's return
    of the order passes review; an unsatisfied callback on it sends a crew to that caller."""
    repair = ticket("unit-n-01", fault_scope="own_home", latitude=SITE[0], longitude=SITE[1])
    await publish_tickets(kafka_bootstrap, topic_prefix, repair)
    order = await crewed(client, repair.ticket_id)
    repeat = ticket(
        "unit-n-01",
        ticket_type="consultation",
        linked_ticket_id=repair.ticket_id,
        caller_name="赵六",
        phone="13600136000",
    )
    await publish_tickets(kafka_bootstrap, topic_prefix, repeat)
    crew = await sign_in(client, f"{order['crew_id']}-m1")
    # Whether dispatch hears of the link before or after the return, it is released once.
    await walk(client, crew, order["id"], *TO_A_PASSED_RETURN)
    released = await released_once(kafka_bootstrap, topic_prefix, repeat.ticket_id)
    assert released.reason == "work_order_returned"
    assert released.work_order_id == order["id"]

    await publish(
        kafka_bootstrap,
        topic_prefix,
        ReopenRequestedV1(
            ticket_id=repeat.ticket_id,
            task_id="task-3",
            origin="dispatch",
            reason="还是没电",
            requested_at=datetime.now(UTC),
        ),
        source="/brightline/callback",
    )
    reopened = await crewed(client, repeat.ticket_id)
    assert reopened["reopened_from"] == order["id"]


async def test_a_link_heard_of_before_its_repair_is_released_with_it(
    client, kafka_bootstrap, topic_prefix
):
    repair = ticket("unit-n-01", fault_scope="own_home", latitude=SITE[0], longitude=SITE[1])
    repeat = ticket("unit-n-01", ticket_type="consultation", linked_ticket_id=repair.ticket_id)
    # Two tickets, two keys: dispatch may well see the repeat call before the repair itself.
    await publish_tickets(kafka_bootstrap, topic_prefix, repeat)
    await publish_tickets(kafka_bootstrap, topic_prefix, repair)
    order = await crewed(client, repair.ticket_id)
    crew = await sign_in(client, f"{order['crew_id']}-m1")
    await walk(client, crew, order["id"], *TO_A_PASSED_RETURN)
    released = await released_once(kafka_bootstrap, topic_prefix, repeat.ticket_id)
    assert released.work_order_id == order["id"]


# --- 9. what a crew needs, and cancelling an order not needed -------------------------------


async def test_the_crew_sees_ticket_customer_deadline_and_notes_and_asks_to_cancel(
    client, kafka_bootstrap, topic_prefix
):
    t = ticket(
        "unit-n-01",
        fault_scope="own_home",
        latitude=SITE[0],
        longitude=SITE[1],
        caller_name="王小明",
        phone="13912345678",
    )
    await publish_tickets(kafka_bootstrap, topic_prefix, t)
    order = await crewed(client, t.ticket_id)
    crew = await sign_in(client, f"{order['crew_id']}-m1")
    # The arrive-by is on the order from its creation: 45 minutes (urban) from the ticket's 受理,
    # counted as the SLA monitor counts the clock it opens (no event of the monitor's needed).
    due = datetime.fromisoformat(order["reported_at"]) + timedelta(minutes=45)

    async def with_deadline():
        body = (await client.get(f"/mobile/orders/{order['id']}", headers=crew)).json()
        return body["arrive_by"] and body

    offered = await eventually(with_deadline)
    assert datetime.fromisoformat(offered["arrive_by"]) == due
    assert offered["ticket_no"] == t.ticket_no
    # Only offered: masked.
    assert offered["customer_name"] == "王**" and offered["customer_phone"] == "139****5678"
    await walk(client, crew, order["id"], "accept", "en-route")
    accepted = (await client.get(f"/mobile/orders/{order['id']}", headers=crew)).json()
    assert accepted["customer_name"] == "王小明" and accepted["customer_phone"] == "13912345678"

    # Not needed after all, the crew finds: it asks to cancel (申请撤单), with the reason. The
    # order runs on, the crew's, until the duty dispatcher answers: nothing closes.
    no_reason = await client.post(
        f"/mobile/orders/{order['id']}/cancellation",
        json={"device_time": datetime.now(UTC).isoformat()},
        headers={**crew, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert no_reason.status_code == 422
    spaces = await client.post(
        f"/mobile/orders/{order['id']}/cancellation",
        json={"reason": "  \n ", "device_time": datetime.now(UTC).isoformat()},
        headers={**crew, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert spaces.status_code == 422 and "reason" in spaces.text

    async def ask(reason: str) -> dict:
        asked = await client.post(
            f"/mobile/orders/{order['id']}/cancellation",
            json={"reason": reason, "device_time": datetime.now(UTC).isoformat()},
            headers={**crew, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert asked.status_code == 200, asked.text
        return asked.json()

    asked = await ask("客户说好像来电了")
    assert (asked["status"], asked["cancel_requested"]) == ("en_route", True)
    assert asked["cancel_reason"] == "客户说好像来电了"
    # Asked again while it waits (a new key, not a retry): refused, the first request unchanged.
    twice = await client.post(
        f"/mobile/orders/{order['id']}/cancellation",
        json={"reason": "客户又说没来电", "device_time": datetime.now(UTC).isoformat()},
        headers={**crew, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert twice.status_code == 409 and "waits since" in twice.json()["detail"], twice.text
    still = (await client.get(f"/mobile/orders/{order['id']}", headers=crew)).json()
    assert still["cancel_reason"] == "客户说好像来电了"

    async def waiting() -> list[str]:
        found = await client.get(
            "/work-orders", params={"status": "cancel_requested"}, headers=SUPERVISOR
        )
        assert found.status_code == 200, found.text
        return [o["id"] for o in found.json()]

    assert order["id"] in await waiting()
    history = (await client.get(f"/work-orders/{order['id']}/history", headers=SUPERVISOR)).json()
    assert (history[-1]["status"], history[-1]["previous_status"]) == ("en_route", "en_route")
    assert history[-1]["reason"] == "cancellation requested: 客户说好像来电了"
    # Told on the stream (the dispatcher's board learns of it live), with nothing closing.
    [request] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.data.get("work_order_id") == order["id"]
            and e.type == "brightline.dispatch.work-order.cancel-requested.v1"
        ),
        1,
    )
    assert request.payload().reason == "客户说好像来电了"
    assert request.payload().actor == f"{order['crew_id']}-m1"

    # The dispatcher refuses, with why: the crew reads it and goes on; only a supervisor may.
    refusal = f"/work-orders/{order['id']}/cancellation-refusal"
    assert (await client.post(refusal, json={"reason": "x"}, headers=AGENT)).status_code == 403
    for blank_reason in ("", "   "):
        blank = await client.post(refusal, json={"reason": blank_reason}, headers=SUPERVISOR)
        assert blank.status_code == 422 and "reason" in blank.text
    refused = await client.post(
        refusal, json={"reason": " 客户再次来电仍无电，请到场 "}, headers=SUPERVISOR
    )
    assert refused.status_code == 200, refused.text
    assert (refused.json()["status"], refused.json()["cancel_requested"]) == ("en_route", False)
    assert refused.json()["cancel_reason"] is None
    told = (await client.get(f"/mobile/orders/{order['id']}", headers=crew)).json()
    assert told["cancel_refused_reason"] == "客户再次来电仍无电，请到场"
    assert told["sent_back_reason"] is None  # no return was sent back
    assert not told["cancel_requested"]
    [refusal_told] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.data.get("work_order_id") == order["id"]
            and e.type == "brightline.dispatch.work-order.cancel-refused.v1"
        ),
        1,
    )
    assert refusal_told.payload().reason == "客户再次来电仍无电，请到场"
    assert order["id"] not in await waiting()
    again = await client.post(refusal, json={"reason": "x"}, headers=SUPERVISOR)
    assert again.status_code == 409 and again.json()["type"].endswith("no-cancel-request")

    # Asked again, and the crew goes on with the work after all: the step withdraws the request.
    await ask("客户不在家")
    await walk(client, crew, order["id"], "on-site")
    assert order["id"] not in await waiting()
    arrived = (await client.get(f"/mobile/orders/{order['id']}", headers=crew)).json()
    assert (arrived["status"], arrived["cancel_requested"]) == ("on_site", False)
    assert arrived["cancel_reason"] is None

    # Asked a third time, and granted: the dispatcher cancels with the crew's reason.
    await ask("客户来电告知已自行恢复供电")
    cancelled = await client.post(
        f"/work-orders/{order['id']}/cancellation",
        json={"reason": "客户来电告知已自行恢复供电"},
        headers=SUPERVISOR,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "客户来电告知已自行恢复供电"
    assert not cancelled.json()["cancel_requested"]
    assert order["id"] not in await waiting()
    history = (await client.get(f"/work-orders/{order['id']}/history", headers=SUPERVISOR)).json()
    assert history[-1]["status"] == "cancelled"
    assert history[-1]["reason"] == "客户来电告知已自行恢复供电"
    [event] = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.data.get("work_order_id") == order["id"] and e.data.get("status") == "cancelled"
        ),
        1,
    )
    assert event.payload().reason == "客户来电告知已自行恢复供电"
    assert event.payload().actor == "sup-1"


async def test_the_crew_reads_back_its_notes_and_a_supervisor_cancels_with_a_reason(
    client, kafka_bootstrap, topic_prefix
):
    t = ticket("unit-n-01", fault_scope="own_home", latitude=SITE[0], longitude=SITE[1])
    await publish_tickets(kafka_bootstrap, topic_prefix, t)
    order = await crewed(client, t.ticket_id)
    crew = await sign_in(client, f"{order['crew_id']}-m1")
    await walk(client, crew, order["id"], "accept", "en-route", "on-site", "resolution")
    read = (await client.get(f"/mobile/orders/{order['id']}", headers=crew)).json()
    assert read["notes"] == "更换熔丝" and read["cause"] == "熔丝熔断"

    other = ticket("unit-n-01", fault_scope="own_home", address="重复登记路1号")
    await publish_tickets(kafka_bootstrap, topic_prefix, other)
    duplicate = await crewed(client, other.ticket_id)
    assert (
        await client.post(
            f"/work-orders/{duplicate['id']}/cancellation", json={"reason": "x"}, headers=AGENT
        )
    ).status_code == 403
    cancelled = await client.post(
        f"/work-orders/{duplicate['id']}/cancellation",
        json={"reason": "重复登记"},
        headers=SUPERVISOR,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (
        cancelled.json()["status"] == "cancelled"
        and cancelled.json()["cancel_reason"] == "重复登记"
    )
    resolved_twice = await client.post(
        f"/work-orders/{order['id']}/cancellation", json={"reason": "x"}, headers=SUPERVISOR
    )
    assert resolved_twice.status_code == 409
