"""Two services count a repair's arrival deadline from the same pack: dispatch when it creates
the order (the crew's arrive-by, at once) and the SLA monitor when it opens the clock it judges
breaches by. The rule lives in brightline.calendar.policy; this holds their counts together for
every area class and every pack this build ships."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.calendar.policy import NoPolicyInForce, PolicyBook, load_pack, pack_names
from brightline.dispatch import handlers
from brightline.dispatch.domain.model import WorkOrder
from brightline.sla_monitor.domain.deadlines import due_at

REPORTED = datetime(2026, 9, 30, 23, 50, tzinfo=UTC)  # the eve of a national holiday, late


@pytest.mark.parametrize("pack", pack_names())
@pytest.mark.parametrize("area_class", ["urban", "rural", "remote"])
def test_dispatch_and_the_sla_monitor_count_the_same_arrival_deadline(
    pack, area_class, monkeypatch
):
    monkeypatch.setenv("BRIGHTLINE_POLICY_PACKS", pack)
    order = WorkOrder.create(
        id="wo-1",
        ticket_id="t-1",
        unit_id="u-1",
        area_class=area_class,
        created_at=REPORTED + timedelta(minutes=2),
        reported_at=REPORTED,
    )
    try:
        limit = PolicyBook([load_pack(pack)]).limit_for(f"repair.arrival.{area_class}", REPORTED)
    except (NoPolicyInForce, KeyError):  # a pack not in force then: neither opens a clock
        assert handlers.arrival_due(order) is None
        return
    assert handlers.arrival_due(order) == due_at(limit, REPORTED)
