"""The wallboard's own arithmetic: the month-end projection of the callback rate, per unit."""

from datetime import UTC, datetime

from brightline.console.domain.wallboard import (
    agents_by_state,
    callbacks_by_unit,
    longest_wait_s,
    project_callback_rate,
)


def test_tickets_still_pending_count_as_the_decided_ones_went_not_as_failures():
    # 100 finished, 60 reached, 10 never reached, 30 still waiting for their callback: the
    # month-to-date ratio says 0.60; 60 of 70 decided were reached, so 30 pending add 30 * 6/7.
    assert project_callback_rate(100, 60, 10) == (60 + 30 * 60 / 70) / 100


def test_projection_with_nothing_decided_is_the_month_to_date_ratio_and_none_without_tickets():
    assert project_callback_rate(10, 0, 0) == 0.0
    assert project_callback_rate(0, 0, 0) is None


def test_units_sum_their_days_and_alarm_below_the_pack_target():
    rates = [
        {"unit_id": "HZ", "day": "2026-12-01", "finished": 10, "called_back": 9},
        {
            "unit_id": "HZ",
            "day": "2026-12-02",
            "finished": 10,
            "called_back": 5,
            "attempted_unreached": 0,
        },
        {
            "unit_id": "NB",
            "day": "2026-12-01",
            "finished": 4,
            "called_back": 2,
            "attempted_unreached": 2,
        },
    ]
    hz, nb = callbacks_by_unit(rates, target=0.9)
    assert (hz.unit_id, hz.finished, hz.called_back, hz.pending) == ("HZ", 20, 14, 6)
    assert hz.month_to_date == 0.7 and hz.projection == 1.0 and not hz.alarm
    assert nb.projection == 0.5 and nb.alarm


def test_floor_counts_agents_by_state_and_finds_the_longest_wait():
    assert agents_by_state([{"state": "ready"}, {"state": "ready"}, {"state": "talking"}]) == {
        "ready": 2,
        "talking": 1,
    }
    now = datetime(2026, 12, 1, 1, 0, 30, tzinfo=UTC)
    waiting = [{"rang_at": "2026-12-01T01:00:10+00:00"}, {"rang_at": "2026-12-01T01:00:00+00:00"}]
    assert longest_wait_s(waiting, now) == 30
    assert longest_wait_s([], now) is None
