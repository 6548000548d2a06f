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


async def test_what_only_restates_a_settled_deadline_is_not_a_late_input(monkeypatch):
    """A call's end repeats its answer (for when the answered event was lost), and a case's
    closing cancels every clock of the case that still runs. Neither is news of a clock already
    settled: kept as late inputs they were on every answered call and every closed case, and hid
    the ones that mean something. A meet at another time, or one naming the clock, still is."""
    store, emitted = MemoryStore(), []
    call = dict(subject_type="call", subject_id="call-1")
    case = dict(subject_type="case", subject_id="c-2")
    [answer] = await handle(
        Open(limit_key="call.answer", **call, ticket_id=None, at=AT),
        store,
        emitted.append,
        book=BOOK,
    )
    for key in ("complaint.transfer", "complaint.reply"):
        await handle(
            Open(limit_key=key, **case, ticket_id="t-2", at=AT), store, emitted.append, book=BOOK
        )
    answered = Meet(**call, limit_keys=("call.answer",), at=AT + timedelta(seconds=5))
    await handle(answered, store, emitted.append, book=BOOK)
    transferred = Meet(**case, limit_keys=("complaint.transfer",), at=AT + timedelta(hours=1))
    [transfer] = await handle(transferred, store, emitted.append, book=BOOK)
    logs = Recorded()
    monkeypatch.setattr(handlers, "log", logs)

    assert await handle(answered, store, emitted.append, book=BOOK) == []  # the call's end
    closed = Cancel(**case, limit_keys=None, at=AT + timedelta(days=2), reason="case closed")
    [reply] = await handle(closed, store, emitted.append, book=BOOK)

    assert reply.limit.key == "complaint.reply" and reply.state == "cancelled"
    assert (await store.get(answer.deadline_id)).late_inputs == ()
    assert (await store.get(transfer.deadline_id)).late_inputs == ()
    assert logs.entries == []
    # The same call's answer told at another time is news, and kept.
    later = Meet(**call, limit_keys=("call.answer",), at=AT + timedelta(seconds=9))
    assert await handle(later, store, emitted.append, book=BOOK) == []
    [kept] = (await store.get(answer.deadline_id)).late_inputs
    assert (kept.input, kept.at, kept.state) == ("meet", later.at, "met")
