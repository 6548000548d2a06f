"""The SLA monitor never silently drops an input about a deadline it knows (issue 15 point 11):
a meet or cancel for a deadline already settled, or errored because its due time could not be
counted, is logged with the deadline and the input."""

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from brightline.sla_monitor.adapters.repository import MemoryStore
from brightline.sla_monitor.domain.monitor import Meet, Open
from brightline.sla_monitor.domain.policy import PolicyBook, load_pack
from brightline.sla_monitor.handlers import handle

BOOK = PolicyBook([load_pack("seed")])


async def test_a_meet_for_an_errored_deadline_is_logged_not_dropped():
    store, emitted = MemoryStore(), []
    far = datetime(2099, 5, 1, 9, 0, tzinfo=UTC)  # beyond the official calendar: errored
    opens = Open(
        limit_key="case.transfer",
        subject_type="case",
        subject_id="c-far",
        ticket_id="t-far",
        at=far,
    )
    [tracked] = await handle(opens, store, emitted.append, book=BOOK)
    assert tracked.error
    meet = Meet(
        subject_type="case",
        subject_id="c-far",
        limit_keys=("case.transfer",),
        at=far + timedelta(hours=1),
    )
    with capture_logs() as logs:
        assert await handle(meet, store, emitted.append, book=BOOK) == []
    [entry] = [e for e in logs if e.get("deadline_id") == tracked.deadline_id]
    assert entry["log_level"] == "warning" and entry["input"] == "Meet"
    assert entry["state"] == "errored" and entry["error"]
