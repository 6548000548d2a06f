"""The dispatcher board's 回单审核 queue (and its 申请撤单 queue) as the BFF builds it: the crews'
returns waiting for review, the longest waiting first as dispatch lists them, each with how long it has waited on
the server's clock; a queue dispatch cannot give is empty, with why, and the rest still shows."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from brightline.console.api import dispatch_board
from brightline.console.api.dispatch_board import seconds_since
from brightline.platform.problems import Problem

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


class Dispatch:
    """Dispatch as the board reads it, answering each list (or refusing the review queue)."""

    def __init__(self, returns: list[dict] | Exception, cancel_requests=()) -> None:
        self.returns = returns
        self.cancel_requests = list(cancel_requests)
        self.asked: list[tuple[str | None, int]] = []

    async def crews(self, token):
        return []

    async def work_orders(self, token, status=None, limit=100):
        self.asked.append((status, limit))
        if status == "awaiting_review":
            if isinstance(self.returns, Exception):
                raise self.returns
            return self.returns
        if status == "cancel_requested":
            return self.cancel_requests
        return []

    async def outages(self, token):
        return []

    async def needs_routing(self, token):
        return []

    async def units(self, token):
        return []


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(dispatch_board.clock, "now", lambda: NOW)


def test_a_return_has_waited_since_the_crew_returned_it():
    assert seconds_since((NOW - timedelta(minutes=3)).isoformat(), NOW) == 180
    assert seconds_since(None, NOW) is None


async def test_the_board_lists_the_returns_waiting_for_review_with_their_wait(frozen):
    returns = [
        {"id": "o1", "ticket_no": "GD1", "returned_at": (NOW - timedelta(minutes=9)).isoformat()},
        {"id": "o2", "ticket_no": "GD2", "returned_at": (NOW - timedelta(seconds=30)).isoformat()},
    ]
    upstream = Dispatch(returns)
    board = await dispatch_board.dispatch_board(SimpleNamespace(token="t"), upstream)
    assert ("awaiting_review", dispatch_board.RETURNS_SHOWN) in upstream.asked
    assert [(o["id"], o["waiting_seconds"]) for o in board["awaiting_review"]] == [
        ("o1", 540),
        ("o2", 30),
    ]
    assert board["problems"] == []


async def test_a_review_queue_dispatch_cannot_give_is_empty_with_why(frozen):
    refused = Problem(
        502, "upstream-unavailable", "The dispatch service does not answer", service="dispatch"
    )
    board = await dispatch_board.dispatch_board(SimpleNamespace(token="t"), Dispatch(refused))
    assert board["awaiting_review"] == []
    assert board["problems"] == [
        {
            "status": 502,
            "type": "upstream-unavailable",
            "title": "The dispatch service does not answer",
            "detail": None,
            "service": "dispatch",
        }
    ]


async def test_the_board_lists_the_crews_requests_to_cancel_with_their_wait(frozen):
    asked = {
        "id": "o3",
        "cancel_reason": "客户已自行恢复供电",
        "cancel_requested_at": (NOW - timedelta(minutes=2)).isoformat(),
    }
    upstream = Dispatch([], [asked])
    board = await dispatch_board.dispatch_board(SimpleNamespace(token="t"), upstream)
    assert ("cancel_requested", dispatch_board.RETURNS_SHOWN) in upstream.asked
    assert [(o["id"], o["waiting_seconds"]) for o in board["cancel_requests"]] == [("o3", 120)]
    assert board["awaiting_review"] == []
