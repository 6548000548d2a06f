"""When a repair's callback comes due: its return passed review (回单审核), as a case's comes when
its answer is recorded; not when the crew handed the order back."""

from datetime import UTC, datetime, timedelta

from brightline.callback.consumers import on_work_order_returned
from brightline.contracts import new_event
from brightline.contracts.events.dispatch import WorkOrderReturnedV1

RETURNED = datetime(2026, 12, 7, 2, 10, tzinfo=UTC)


def returned(**review) -> WorkOrderReturnedV1:
    return WorkOrderReturnedV1(
        work_order_id="wo-1",
        ticket_id="t-1",
        unit_id="unit-1",
        returned_at=RETURNED,
        resolution="repaired",
        cause="表箱进线熔丝熔断",
        **review,
    )


def test_a_repair_is_finished_for_its_callback_when_its_return_passes_review():
    reviewed = RETURNED + timedelta(hours=3)
    event = new_event(returned(reviewed_at=reviewed, reviewed_by="sup-1"), source="test")
    opened = on_work_order_returned(event)
    assert opened.finished_at == reviewed
    assert opened.finish_ref == f"dispatch:wo-1:{reviewed.isoformat()}"
    assert (opened.resolution, opened.cause) == ("repaired", "表箱进线熔丝熔断")


def test_a_return_from_before_reviews_is_finished_when_the_crew_returned_it():
    opened = on_work_order_returned(new_event(returned(), source="test"))
    assert opened.finished_at == RETURNED
