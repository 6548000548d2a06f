"""The time the power went off, which intake requires of every repair (issue 15 a), reaches the
work order: the crew and the dispatcher read it there, and a reopened repair keeps it."""

from datetime import UTC, datetime, timedelta

import pytest
from dispatch_helpers import AGENT, order_of, publish_tickets, ticket

pytestmark = pytest.mark.integration


async def test_the_work_order_carries_when_the_power_went_off(
    client, kafka_bootstrap, topic_prefix
):
    went_off = (datetime.now(UTC) - timedelta(minutes=40)).replace(microsecond=0)
    repair = ticket("unit-n-01", fault_scope="own_home", fault_started_at=went_off)
    await publish_tickets(kafka_bootstrap, topic_prefix, repair)
    order = await order_of(client, repair.ticket_id)
    assert datetime.fromisoformat(order["fault_started_at"]) == went_off
    fetched = (await client.get(f"/work-orders/{order['id']}", headers=AGENT)).json()
    assert datetime.fromisoformat(fetched["fault_started_at"]) == went_off
