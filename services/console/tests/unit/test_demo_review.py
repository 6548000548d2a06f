"""Which crews' returns `make run`'s demo supervisor passes (回单审核), and which requests to
cancel it grants (申请撤单): only those that have waited the minutes a person at the dispatcher
board has to answer first, counted from the latest, and never one no longer waiting."""

from datetime import UTC, datetime, timedelta

from brightline.console.demo import left_to_the_robot

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def returned(order_id: str, ago: timedelta, **fields) -> dict:
    return {
        "id": order_id,
        "status": "returned",
        "awaiting_review": True,
        "returned_at": (NOW - ago).isoformat(),
        **fields,
    }


def returns_to_pass(orders: list[dict], after: timedelta) -> list[dict]:
    return left_to_the_robot(orders, NOW, after, since="returned_at", waiting="awaiting_review")


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
    passed = returns_to_pass(orders, timedelta(minutes=2))
    assert [o["id"] for o in passed] == ["old", "just-enough"]
    assert [o["id"] for o in returns_to_pass(orders, timedelta(0))] == [
        "old",
        "just-enough",
        "fresh",
        "again",
    ]


def test_the_demo_supervisor_grants_only_the_requests_to_cancel_a_person_had_minutes_to_answer():
    def asked(order_id: str, ago: timedelta, **fields) -> dict:
        at = (NOW - ago).isoformat()
        return {"id": order_id, "cancel_requested": True, "cancel_requested_at": at, **fields}

    orders = [
        asked("old", timedelta(minutes=3)),
        asked("fresh", timedelta(seconds=30)),
        asked("answered", timedelta(minutes=9), cancel_requested=False),
    ]
    granted = left_to_the_robot(
        orders,
        NOW,
        timedelta(minutes=2),
        since="cancel_requested_at",
        waiting="cancel_requested",
    )
    assert [o["id"] for o in granted] == ["old"]
