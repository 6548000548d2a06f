"""The wallboard's own arithmetic: the floor's agents by state and the longest wait."""

from datetime import UTC, datetime

from brightline.console.domain.wallboard import agents_by_state, longest_wait_s


def test_floor_counts_agents_by_state_and_finds_the_longest_wait():
    assert agents_by_state([{"state": "ready"}, {"state": "ready"}, {"state": "talking"}]) == {
        "ready": 2,
        "talking": 1,
    }
    now = datetime(2026, 12, 1, 1, 0, 30, tzinfo=UTC)
    waiting = [{"rang_at": "2026-12-01T01:00:10+00:00"}, {"rang_at": "2026-12-01T01:00:00+00:00"}]
    assert longest_wait_s(waiting, now) == 30
    assert longest_wait_s([], now) is None
