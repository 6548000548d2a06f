"""The 12-second answer rate over offered and over answered calls, and per 15/30-minute interval."""

from datetime import datetime, timedelta

import pytest

from brightline.calendar import business_tz
from brightline.sla_monitor import kpis

SH = business_tz()
T = datetime(2026, 12, 1, 9, 10, tzinfo=SH)


def call(rang, delay=None, abandoned=False):
    answered = rang + timedelta(seconds=delay) if delay is not None else None
    return {
        "rang_at": rang,
        "answered_at": answered,
        "ended_at": rang + timedelta(seconds=30) if abandoned else None,
        "cause": "abandoned" if abandoned else None,
        "answer_delay_seconds": delay,
    }


CALLS = [
    call(T, 12.0),  # exactly 12.0 s: within
    call(T + timedelta(minutes=1), 3.5),  # within
    call(T + timedelta(minutes=2), 12.4),  # late
    call(T + timedelta(minutes=10), abandoned=True),  # 09:20: offered, never answered
]


def compute(group_by):
    return kpis.compute(
        calls=CALLS, deadlines=[], rates=[], group_by=group_by, tz=SH, answer_threshold_s=12.0
    )


def test_both_rates_are_published_each_under_its_name():
    [row] = compute("all")
    assert (row.calls_offered, row.calls_answered) == (4, 3)
    assert row.answered_within_threshold_of_offered == pytest.approx(2 / 4)
    assert row.answered_within_threshold_of_answered == pytest.approx(2 / 3)
    assert row.answered_within_threshold == row.answered_within_threshold_of_offered


def test_service_level_per_15_and_30_minute_interval():
    by15 = {r.group: r for r in compute("15min")}
    # 09:10-09:12 fall in 09:00-09:15; the abandoned call at 09:20 in 09:15-09:30
    assert set(by15) == {"2026-12-01T09:00:00", "2026-12-01T09:15:00"}
    assert by15["2026-12-01T09:00:00"].answered_within_threshold_of_offered == pytest.approx(2 / 3)
    assert by15["2026-12-01T09:15:00"].answered_within_threshold_of_offered == 0
    assert by15["2026-12-01T09:15:00"].answered_within_threshold_of_answered is None
    [half_hour] = compute("30min")
    assert half_hour.group == "2026-12-01T09:00:00" and half_hour.calls_offered == 4


def test_handle_time_is_the_mean_talk_of_the_calls_answered_and_ended():
    talked = [
        {**call(T, 3.0), "ended_at": T + timedelta(seconds=3 + 120)},  # 120 s talk
        {**call(T + timedelta(minutes=1), 5.0), "ended_at": T + timedelta(minutes=1, seconds=65)},
        call(T + timedelta(minutes=2), 4.0),  # still talking: not counted yet
        call(T + timedelta(minutes=3), abandoned=True),  # never answered: no handle time
    ]
    [row] = kpis.compute(
        calls=talked, deadlines=[], rates=[], group_by="all", tz=SH, answer_threshold_s=12.0
    )
    assert row.average_handle_time_s == pytest.approx((120 + 60) / 2)
    [none] = kpis.compute(
        calls=CALLS, deadlines=[], rates=[], group_by="all", tz=SH, answer_threshold_s=12.0
    )
    assert none.average_handle_time_s is None
