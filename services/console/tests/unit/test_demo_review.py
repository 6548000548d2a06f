"""Which crews' returns `make run`'s demo supervisor passes (回单审核): only those that have
waited the minutes a person at the dispatcher board has to review them first, counted from the
latest return, and never one no longer waiting for review."""

from datetime import UTC, datetime, timedelta

from brightline.console.demo import returns_to_pass

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def returned(order_id: str, ago: timedelta, **fields) -> dict:
    return {
        "id": order_id,
        "status": "returned",
        "awaiting_review": True,
        "returned_at": (NOW - ago).isoformat(),
        **fields,
    }


def test_the_demo_supervisor_passes_only_the_returns_a_person_had_minutes_to_review():
    orders = [
        returned("old", timedelta(minutes=5)),
        returned("just-enough", timedelta(minutes=2)),
        returned("fresh", timedelta(seconds=90)),
        # Sent back and returned again a moment ago: it waits from its latest return.
        returned("again", timedelta(seconds=10), sent_back_reason="未写明故障原因"),
        returned("reviewed", timedelta(minutes=10), awaiting_review=False),
        {"id": "no-return", "status": "returned", "awaiting_review": True, "returned_at": None},
    ]
    passed = returns_to_pass(orders, NOW, timedelta(minutes=2))
    assert [o["id"] for o in passed] == ["old", "just-enough"]
    assert [o["id"] for o in returns_to_pass(orders, NOW, timedelta(0))] == [
        "old",
        "just-enough",
        "fresh",
        "again",
    ]
