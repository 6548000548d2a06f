"""An order nobody accepts moves to another crew, with the reason on record; the timer lives in
Postgres, so it survives a restart of the service."""

import uuid

import pytest
from dispatch_helpers import (
    AGENT,
    SITE,
    SUPERVISOR,
    dispatch_events,
    dispatch_settings,
    order_of,
    publish_tickets,
    seed_unit,
    sign_in,
    ticket,
)

from brightline.dispatch.main import create_app
from brightline.platform.testing import eventually, running

pytestmark = pytest.mark.integration


async def test_unaccepted_order_is_reassigned_after_a_restart(
    kafka_bootstrap, postgres_server, topic_prefix
):
    database = f"test_dispatch_{uuid.uuid4().hex[:8]}"
    unit = "unit-r"
    t = ticket(f"{unit}-01", latitude=SITE[0], longitude=SITE[1], fault_scope="own_home")
    # First life: a short acceptance timeout, but the scanner is effectively asleep.
    asleep = dispatch_settings(
        kafka_bootstrap,
        postgres_server,
        topic_prefix,
        database,
        acceptance_timeout_seconds=1,
        scan_interval_seconds=3600,
    )
    async with running(create_app(asleep)) as http:
        await seed_unit(http, unit)
        await publish_tickets(kafka_bootstrap, topic_prefix, t)
        order = await order_of(http, t.ticket_id, status="assigned")
        assert order["crew_id"] == f"{unit}-crew-a"

    # Second life on the same database, now with a long timeout: the deadline set in the first
    # life is still in Postgres, so the overdue acceptance is found and acted on, and crew B
    # gets the long window.
    awake = dispatch_settings(
        kafka_bootstrap,
        postgres_server,
        topic_prefix,
        database,
        acceptance_timeout_seconds=3600,
        scan_interval_seconds=0.2,
    )
    async with running(create_app(awake)) as http:

        async def moved():
            o = (await http.get(f"/work-orders/{order['id']}", headers=AGENT)).json()
            return o["crew_id"] == f"{unit}-crew-b" and o

        await eventually(moved)
        history = (await http.get(f"/work-orders/{order['id']}/history", headers=SUPERVISOR)).json()
        assert history[0]["crew_id"] == f"{unit}-crew-a" and history[0]["reason"] == "new order"
        assert history[1]["crew_id"] == f"{unit}-crew-b"
        assert history[1]["reason"].startswith(f"not accepted by {unit}-crew-a before the deadline")

        # Crew A lost the order: its late accept finds nothing; crew B can take it.
        crew_a = await sign_in(http, f"{unit}-crew-a-m1")
        crew_b = await sign_in(http, f"{unit}-crew-b-m1")
        headers = {"Idempotency-Key": str(uuid.uuid4()), "X-Device-Time": history[1]["at"]}
        assert (
            await http.post(f"/mobile/orders/{order['id']}/accept", headers={**crew_a, **headers})
        ).status_code == 404
        accepted = await http.post(
            f"/mobile/orders/{order['id']}/accept",
            headers={**crew_b, **headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert accepted.status_code == 200, accepted.text

    reassigned = await dispatch_events(
        kafka_bootstrap,
        topic_prefix,
        lambda e: (
            e.data.get("work_order_id") == order["id"]
            and e.data.get("crew_id") == f"{unit}-crew-b"
            and e.data.get("status") == "assigned"
        ),
        1,
    )
    assert reassigned[0].payload().previous_status == "assigned"
    assert "not accepted" in reassigned[0].payload().reason
