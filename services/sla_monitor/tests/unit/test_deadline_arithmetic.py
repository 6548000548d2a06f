"""Deadline arithmetic in each unit, across the 2025 Spring Festival holiday.

Checked against chinesecalendar 1.11: 2025's Spring Festival holiday is
Jan 28 (Tue) - Feb 4 (Tue); Sunday Jan 26 and Saturday Feb 8 are make-up
working days (调休). The library agrees with the brief on all of these.
"""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.calendar import business_tz, is_working_day
from brightline.sla_monitor.domain.deadlines import Pause, due_at, warn_at
from brightline.sla_monitor.domain.policy import Limit, load_pack

SH = business_tz()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture(scope="module")
def seed():
    return load_pack("seed")


@pytest.fixture(scope="module")
def sgcc():
    return load_pack("sgcc-2011")


def test_the_calendar_facts_these_tests_rely_on():
    assert all(not is_working_day(at(f"2025-01-{d}").date()) for d in range(28, 32))
    assert all(not is_working_day(at(f"2025-02-0{d}").date()) for d in range(1, 5))
    assert is_working_day(at("2025-01-26").date())  # Sunday, 调休
    assert is_working_day(at("2025-02-08").date())  # Saturday, 调休


def test_seconds(seed):
    opened = at("2025-01-28T23:59:55")  # 除夕, holidays are irrelevant to seconds
    assert due_at(seed.limit("call.answer"), opened) == at("2025-01-29T00:00:07")


def test_minutes_across_midnight_on_a_holiday(seed):
    opened = at("2025-01-28T23:50")
    assert due_at(seed.limit("repair.arrival.urban"), opened) == at("2025-01-29T00:35")
    assert due_at(seed.limit("repair.arrival.rural"), opened) == at("2025-01-29T01:20")
    assert due_at(seed.limit("repair.arrival.remote"), opened) == at("2025-01-29T01:50")


def test_hours(seed):
    opened = at("2025-01-27T18:00")
    assert due_at(seed.limit("callback.window"), opened) == at("2025-01-28T18:00")


def test_calendar_days_count_the_holiday(seed):
    opened = at("2025-01-27T10:00")
    assert due_at(seed.limit("complaint.reply"), opened) == at("2025-02-01T10:00")
    assert due_at(seed.limit("report.reply"), opened) == at("2025-02-06T10:00")


def test_calendar_days_keep_business_clock_time_for_utc_input(seed):
    opened_utc = datetime(2025, 1, 27, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
    due = due_at(seed.limit("complaint.reply"), opened_utc)
    assert due == at("2025-02-01T10:00") and due.tzinfo == SH


def test_complaint_opened_2025_01_27_under_sgcc_2011_takes_7_working_days(sgcc):
    # Working days after Jan 27: Feb 5, 6, 7, 8 (Sat, 调休), 10, 11, 12.
    opened = at("2025-01-27T10:00")
    assert due_at(sgcc.limit("complaint.reply"), opened) == at("2025-02-12T10:00")


def test_complaint_opened_2025_01_27_under_seed_takes_5_calendar_days(seed):
    assert due_at(seed.limit("complaint.reply"), at("2025-01-27T10:00")) == at("2025-02-01T10:00")


def test_jiangsu_complaint_reply_lands_on_the_make_up_saturday():
    jiangsu = load_pack("jiangsu-2021")
    assert due_at(jiangsu.limit("complaint.reply"), at("2025-01-27T10:00")) == at(
        "2025-02-08T10:00"
    )


def test_working_days_on_a_make_up_weekend(seed):
    # Friday Feb 7 + 1 working day = Saturday Feb 8, a make-up working day.
    assert due_at(seed.limit("case.transfer"), at("2025-02-07T16:00")) == at("2025-02-08T16:00")
    # Opened ON the make-up Sunday Jan 26: Jan 27 is day 1, then the holiday, Feb 5 is day 2.
    assert due_at(seed.limit("first_ask.answer"), at("2025-01-26T09:00")) == at("2025-02-05T09:00")


def test_working_days_opened_during_the_holiday_count_from_the_next_working_day(seed):
    assert due_at(seed.limit("meter.fault"), at("2025-01-30T11:00")) == at("2025-02-06T11:00")


def test_warning_point_fixed_and_calendar_units(seed):
    assert warn_at(seed.limit("repair.arrival.urban"), at("2025-01-28T08:00")) == at(
        "2025-01-28T08:36"
    )
    # 80 % of 5 x 24 h = 96 h
    assert warn_at(seed.limit("complaint.reply"), at("2025-01-27T10:00")) == at("2025-01-31T10:00")


def test_warning_point_of_a_working_day_limit_is_a_fraction_of_the_real_span(sgcc):
    # Jan 27 10:00 -> Feb 12 10:00 is 16 days = 384 h; 80 % = 307 h 12 min.
    opened = at("2025-01-27T10:00")
    assert warn_at(sgcc.limit("complaint.reply"), opened) == opened + timedelta(hours=307.2)
    assert warn_at(sgcc.limit("complaint.reply"), opened) == at("2025-02-09T05:12")


def test_custom_warn_fraction():
    limit = Limit(key="x", amount=100, unit="minutes", source="test", warn_at=0.5)
    assert warn_at(limit, at("2025-03-03T10:00")) == at("2025-03-03T10:50")


def test_pause_moves_the_due_time_by_its_length(seed):
    limit = seed.limit("complaint.reply")
    opened = at("2025-01-27T10:00")
    pauses = [Pause(at("2025-01-28T10:00"), at("2025-01-30T10:00"))]
    assert due_at(limit, opened, pauses=pauses) == at("2025-02-03T10:00")
    assert warn_at(limit, opened, pauses=pauses) == at("2025-02-02T10:00")


def test_pause_after_the_warning_point_moves_only_the_due_time(seed):
    limit = seed.limit("complaint.reply")
    opened = at("2025-01-27T10:00")
    pauses = [Pause(at("2025-01-31T12:00"), at("2025-01-31T18:00"))]
    assert warn_at(limit, opened, pauses=pauses) == at("2025-01-31T10:00")
    assert due_at(limit, opened, pauses=pauses) == at("2025-02-01T16:00")


def test_a_later_pause_counts_if_it_starts_before_the_shifted_due_time(seed):
    limit = seed.limit("complaint.reply")  # unpaused due Feb 1 10:00
    opened = at("2025-01-27T10:00")
    pauses = [
        Pause(at("2025-01-28T10:00"), at("2025-01-29T10:00")),  # due -> Feb 2 10:00
        Pause(at("2025-02-01T12:00"), at("2025-02-01T14:00")),  # before Feb 2: due -> 12:00
        Pause(at("2025-02-03T00:00"), at("2025-02-04T00:00")),  # after: no effect
    ]
    assert due_at(limit, opened, pauses=pauses) == at("2025-02-02T12:00")


def test_working_day_pause_shifts_by_wall_clock_time(sgcc):
    # Documented simplification: 3 days of pause (Fri-Mon) move the due time
    # 72 h, from Wed Feb 12 10:00 to Sat Feb 15 10:00, even though that
    # Saturday is not a working day.
    limit = sgcc.limit("complaint.reply")
    pauses = [Pause(at("2025-02-07T10:00"), at("2025-02-10T10:00"))]
    assert due_at(limit, at("2025-01-27T10:00"), pauses=pauses) == at("2025-02-15T10:00")


def test_invalid_pauses(seed):
    limit = seed.limit("complaint.reply")
    opened = at("2025-01-27T10:00")
    with pytest.raises(ValueError, match="not pausable"):
        due_at(seed.limit("call.answer"), opened, pauses=[Pause(opened, opened + timedelta(1))])
    with pytest.raises(ValueError, match="overlap"):
        due_at(
            limit,
            opened,
            pauses=[
                Pause(at("2025-01-28T10:00"), at("2025-01-29T10:00")),
                Pause(at("2025-01-28T12:00"), at("2025-01-30T10:00")),
            ],
        )
    with pytest.raises(ValueError, match="after opening"):
        due_at(limit, opened, pauses=[Pause(at("2025-01-26T10:00"), at("2025-01-28T10:00"))])
    with pytest.raises(ValueError, match="still paused"):
        due_at(limit, opened, pauses=[Pause(at("2025-01-28T10:00"))])


def test_naive_opened_at_is_rejected(seed):
    with pytest.raises(ValueError, match="naive"):
        due_at(seed.limit("complaint.reply"), datetime(2025, 1, 27, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        warn_at(seed.limit("complaint.reply"), datetime(2025, 1, 27, 10, 0))
