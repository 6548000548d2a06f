"""The SLA monitor never silently drops an input about a deadline it knows (issue 15 point 11
and b): a meet or cancel for a deadline already settled is kept on the deadline (its read API
and audit trail show it) and logged with the deadline and the input.
(A due time past the calendar's years no longer errors: it opens provisional, issue 16.)"""

from datetime import UTC, datetime, timedelta

from brightline.sla_monitor import handlers
from brightline.sla_monitor.adapters.repository import MemoryStore
from brightline.sla_monitor.domain.monitor import Cancel, Meet, Open
from brightline.sla_monitor.domain.policy import PolicyBook, load_pack
from brightline.sla_monitor.handlers import handle

BOOK = PolicyBook([load_pack("seed")])


class Recorded:
    """Stands in for the handlers' logger: structlog's own capture cannot see a logger another
    test already configured and cached."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def __getattr__(self, level: str):
        return lambda event, **fields: self.entries.append(
            {"event": event, "log_level": level, **fields}
        )


AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


async def test_a_second_meet_or_a_cancel_for_a_met_deadline_is_logged_not_dropped(monkeypatch):
    store, emitted = MemoryStore(), []
    subject = dict(subject_type="case", subject_id="c-1")
    [tracked] = await handle(
        Open(limit_key="case.transfer", **subject, ticket_id="t-1", at=AT),
        store,
        emitted.append,
        book=BOOK,
    )
    meet = Meet(**subject, limit_keys=("case.transfer",), at=AT + timedelta(minutes=10))
    [met] = await handle(meet, store, emitted.append, book=BOOK)
    assert met.state == "met"
    for late in (
        Meet(**subject, limit_keys=("case.transfer",), at=AT + timedelta(minutes=20)),
        Cancel(
            **subject, limit_keys=("case.transfer",), at=AT + timedelta(minutes=30), reason="dup"
        ),
    ):
        logs = Recorded()
        monkeypatch.setattr(handlers, "log", logs)
        assert await handle(late, store, emitted.append, book=BOOK) == []
        [entry] = [e for e in logs.entries if e.get("deadline_id") == tracked.deadline_id]
        assert entry["log_level"] == "warning" and entry["input"] == type(late).__name__
        assert entry["state"] == "met"
    # Kept on the deadline, in order, with what each said; nothing emitted, the deadline stays met.
    kept = await store.get(tracked.deadline_id)
    assert kept.state == "met"
    assert [(x.input, x.at, x.state, x.reason) for x in kept.late_inputs] == [
        ("meet", AT + timedelta(minutes=20), "met", None),
        ("cancel", AT + timedelta(minutes=30), "met", "dup"),
    ]
    assert len([e for e in emitted if e.deadline_id == tracked.deadline_id]) == 2  # opened, met
