"""A crew's roster through the HTTP edge: a rostered crew is offered work only on its shift, and a
shift nobody could mean (a typo's year, weeks long, ending before it starts) is refused."""

from datetime import UTC, datetime, timedelta

import pytest
from dispatch_helpers import INTEGRATION, SITE, SUPERVISOR, order_of, publish_tickets, ticket

pytestmark = pytest.mark.integration


def shift(starts: datetime, hours: float) -> dict:
    return {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=hours)).isoformat(),
    }


async def test_a_crew_on_shift_takes_the_repair_and_an_impossible_shift_is_refused(
    client, kafka_bootstrap, topic_prefix
):
    now = datetime.now(UTC).replace(microsecond=0)
    # A (1 km from the site) is rostered from tomorrow; B (10 km) is on shift now.
    for crew, body in (
        ("unit-n-crew-a", shift(now + timedelta(days=1), 8)),
        ("unit-n-crew-b", shift(now - timedelta(hours=1), 8)),
    ):
        added = await client.post(f"/crews/{crew}/shifts", json=body, headers=SUPERVISOR)
        assert added.status_code == 201, added.text

    repair = ticket("unit-n-01", latitude=SITE[0], longitude=SITE[1], fault_scope="own_home")
    await publish_tickets(kafka_bootstrap, topic_prefix, repair)
    order = await order_of(client, repair.ticket_id, status="assigned")
    assert order["crew_id"] == "unit-n-crew-b"

    wrong = [
        ("starts_at", shift(datetime(2099, 1, 1, tzinfo=UTC), 8)),
        ("ends_at", shift(now + timedelta(hours=1), 24 * 10)),  # a ten-day "shift"
        ("ends_at", shift(now + timedelta(hours=1), -2)),  # ends before it starts
        ("starts_at", {"starts_at": "2026-12-20T08:00:00", "ends_at": "2026-12-20T16:00:00+08:00"}),
    ]
    for field, body in wrong:
        refused = await client.post("/crews/unit-n-crew-a/shifts", json=body, headers=INTEGRATION)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in refused.json()["errors"]] == [field], refused.text
    kept = (await client.get("/crews/unit-n-crew-a/shifts", headers=SUPERVISOR)).json()
    assert len(kept) == 1
