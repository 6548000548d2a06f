"""Working days follow the official calendar, 调休 included.

Every date below was checked against chinesecalendar 1.11 (the installed
data), which agrees with the State Council announcements quoted in comments.
"""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from brightline.calendar import (
    CalendarOutOfRange,
    add_working_days,
    business_tz,
    is_working_day,
    next_working_day,
    supported_years,
    working_days_between,
)

SH = business_tz()


def d(text: str) -> date:
    return date.fromisoformat(text)


# 2024 Spring Festival: off Feb 10-17; Sunday Feb 4 and Sunday Feb 18 worked.
@pytest.mark.parametrize("day", ["2024-02-04", "2024-02-18"])
def test_2024_make_up_sundays_are_working_days(day):
    assert d(day).weekday() == 6
    assert is_working_day(d(day))


def test_2024_spring_festival_holiday_feb_10_to_17():
    days = [d("2024-02-10") + timedelta(days=i) for i in range(8)]
    assert not any(is_working_day(x) for x in days)
    # including the weekdays in between, which are normally working days
    assert d("2024-02-12").weekday() == 0


# National Day 2025: off Oct 1-8 (merged with Mid-Autumn on Oct 6);
# Sunday Sep 28 and Saturday Oct 11 worked.
def test_2025_national_day_holiday_and_make_up_weekend():
    off = [d("2025-10-01") + timedelta(days=i) for i in range(8)]
    assert not any(is_working_day(x) for x in off)
    assert is_working_day(d("2025-10-09"))
    assert is_working_day(d("2025-09-28")) and d("2025-09-28").weekday() == 6
    assert is_working_day(d("2025-10-11")) and d("2025-10-11").weekday() == 5
    assert not is_working_day(d("2025-10-12"))  # the Sunday after stays a rest day


def test_ordinary_weekend_is_not_a_working_day():
    assert not is_working_day(d("2025-03-15"))  # Saturday
    assert is_working_day(d("2025-03-17"))  # Monday


def test_next_working_day_skips_the_holiday_and_lands_on_a_make_up_saturday():
    assert next_working_day(d("2025-01-27")) == d("2025-02-05")
    assert next_working_day(d("2025-02-07")) == d("2025-02-08")  # Saturday, 调休


def test_add_working_days_keeps_clock_time_and_skips_spring_festival():
    start = datetime(2025, 1, 27, 15, 30, tzinfo=SH)  # Monday before the holiday
    assert add_working_days(start, 1) == datetime(2025, 2, 5, 15, 30, tzinfo=SH)
    # Feb 5, 6, 7, 8(Sat, make-up), 10
    assert add_working_days(start, 5) == datetime(2025, 2, 10, 15, 30, tzinfo=SH)


def test_add_working_days_from_a_non_working_day_counts_from_the_next_working_day():
    saturday = datetime(2025, 3, 15, 10, 0, tzinfo=SH)
    assert add_working_days(saturday, 1) == datetime(2025, 3, 17, 10, 0, tzinfo=SH)
    friday = datetime(2025, 3, 14, 10, 0, tzinfo=SH)
    assert add_working_days(friday, 1) == datetime(2025, 3, 17, 10, 0, tzinfo=SH)


def test_add_working_days_uses_the_business_date_not_the_utc_date():
    # 2025-02-07 20:00 UTC is Saturday 2025-02-08 04:00 in Shanghai (a make-up
    # working day), so one working day later is Monday Feb 10, 04:00 Shanghai.
    start = datetime(2025, 2, 7, 20, 0, tzinfo=UTC)
    due = add_working_days(start, 1)
    assert due == datetime(2025, 2, 10, 4, 0, tzinfo=SH)
    assert due.tzinfo == SH


def test_add_working_days_rejects_naive_and_negative():
    with pytest.raises(ValueError, match="naive"):
        add_working_days(datetime(2025, 3, 14, 10, 0), 1)
    with pytest.raises(ValueError):
        add_working_days(datetime(2025, 3, 14, 10, 0, tzinfo=SH), -1)


def test_add_zero_working_days_is_start():
    start = datetime(2025, 3, 15, 10, 0, tzinfo=SH)
    assert add_working_days(start, 0) == start


def test_working_days_between_is_the_inverse_of_add():
    start = datetime(2025, 1, 27, 9, 0, tzinfo=SH)
    for n in range(12):
        assert working_days_between(start.date(), add_working_days(start, n).date()) == n
    assert working_days_between(d("2025-02-10"), d("2025-01-27")) == -5


def test_supported_years_come_from_the_library():
    import chinese_calendar.constants as c

    first, last = supported_years()
    assert first == min(c.holidays).year
    assert last == max(c.holidays).year
    assert first <= 2024 and last >= 2025


def test_out_of_range_year_raises_and_logs(caplog):
    first, last = supported_years()
    late = date(last + 1, 6, 2)
    with (
        caplog.at_level(logging.ERROR, logger="brightline.calendar.working_days"),
        pytest.raises(CalendarOutOfRange) as info,
    ):
        is_working_day(late)
    message = str(info.value)
    assert late.isoformat() in message and str(first) in message and str(last) in message
    assert isinstance(info.value, ValueError)
    assert any(late.isoformat() in r.getMessage() for r in caplog.records)
    with pytest.raises(CalendarOutOfRange):
        is_working_day(date(first - 1, 6, 2))


def test_counting_into_an_unknown_year_fails_loudly_rather_than_guessing():
    _, last = supported_years()
    start = datetime(last, 12, 30, 10, 0, tzinfo=SH)
    with pytest.raises(CalendarOutOfRange):
        add_working_days(start, 5)


def test_a_datetime_is_not_silently_taken_as_a_date():
    with pytest.raises(TypeError):
        is_working_day(datetime(2025, 3, 14, 10, 0, tzinfo=SH))
