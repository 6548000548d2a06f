"""A repair's arrival deadline (到达现场时限) is dispatch's own count, from the pack every service
reads (brightline.calendar.policy): the crew's order says it the moment it is created, and
dispatch no longer consumes the SLA monitor's deadlines to learn it (one consumption, inbox row
and audit row less per repair). The monitor opens the same clock and stays the judge of a
breach; tests/architecture/test_arrival_deadline_agrees.py holds the two counts together."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.contracts.topics import SLA_DEADLINES, consumed_by
from brightline.dispatch import consumers, handlers
from brightline.dispatch.domain.model import WorkOrder

REPORTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def order(area_class: str = "urban", **over) -> WorkOrder:
    return WorkOrder.create(
        id="wo-1",
        ticket_id="t-1",
        unit_id="u-1",
        area_class=area_class,
        created_at=REPORTED + timedelta(minutes=3),  # queue lag: the clock runs from 受理
        reported_at=REPORTED,
        **over,
    )


@pytest.mark.parametrize(("area_class", "minutes"), [("urban", 45), ("rural", 90), ("remote", 120)])
def test_the_arrival_deadline_runs_from_the_tickets_recorded_time(area_class, minutes):
    assert handlers.arrival_due(order(area_class)) == REPORTED + timedelta(minutes=minutes)


def test_only_an_order_that_leads_gets_a_clock_as_the_monitor_opens_one():
    lead = order()
    assert handlers._opens_an_arrival_clock(lead)
    follower = order()
    follower.link_to("inc-1", lead=False)
    assert not handlers._opens_an_arrival_clock(follower)
    follower.events.clear()
    follower.release_from_incident(REPORTED + timedelta(minutes=30))  # stands for itself now
    assert handlers._opens_an_arrival_clock(follower)


def test_dispatch_does_not_consume_the_monitors_deadlines():
    assert SLA_DEADLINES not in consumed_by("dispatch")
    assert not any(t.startswith("brightline.sla.") for t in consumers.TRANSLATORS)
