"""The operator's holiday file on top of chinesecalendar, and provisional counting past both.

The installed chinesecalendar (1.11) knows 2004-2026. The 2027 notice below is a TEST FIXTURE
shaped like a State Council notice, not the real one: New Year Jan 1-3, Spring Festival
Feb 6-13 (2027-02-06 is 除夕), make-up Sunday Feb 14.
"""

from datetime import date, datetime

import pytest

from brightline.calendar import (
    CalendarOutOfRange,
    HolidayFileError,
    add_working_days,
    add_working_days_provisional,
    business_tz,
    is_working_day,
    known_until,
    parse_holiday_file,
    supported_years,
    use_holiday_file,
)

SH = business_tz()

NOTICE_2027 = """
years:
  2027:
    notice: "TEST FIXTURE shaped like 国务院办公厅关于2027年部分节假日安排的通知"
    published: 2026-11-20
    holidays:
      - {from: 2027-01-01, to: 2027-01-03, name: 元旦}
      - {from: 2027-02-06, to: 2027-02-13, name: 春节}
    workdays:
      - 2027-02-14
"""


@pytest.fixture
def with_2027():
    use_holiday_file(parse_holiday_file(NOTICE_2027))
    yield
    use_holiday_file(None)


@pytest.fixture
def without_file():
    use_holiday_file(parse_holiday_file("years: {}"))
    yield
    use_holiday_file(None)


def test_without_the_file_the_calendar_ends_with_the_package(without_file):
    assert supported_years()[1] == 2026
    assert known_until() == date(2026, 12, 31)
    with pytest.raises(CalendarOutOfRange, match="BRIGHTLINE_HOLIDAY_FILE"):
        is_working_day(date(2027, 1, 4))


def test_the_file_extends_the_calendar_by_one_data_change(with_2027):
    assert supported_years()[1] == 2027
    assert known_until() == date(2027, 12, 31)
    assert not is_working_day(date(2027, 1, 1))  # Friday, 元旦
    assert is_working_day(date(2027, 1, 4))  # Monday
    assert not is_working_day(date(2027, 2, 8))  # Monday inside the Spring Festival
    assert is_working_day(date(2027, 2, 14))  # Sunday, 调休
    assert not is_working_day(date(2027, 2, 20))  # an ordinary Saturday


def test_counting_across_new_year_uses_the_file(with_2027):
    # Thursday 2026-12-31 10:00 + 2 working days: Jan 1-3 off (file), Mon Jan 4 is day 1,
    # Tue Jan 5 is day 2.
    start = datetime(2026, 12, 31, 10, 0, tzinfo=SH)
    assert add_working_days(start, 2) == datetime(2027, 1, 5, 10, 0, tzinfo=SH)


def test_provisional_counting_past_the_known_years_says_so(without_file):
    start = datetime(2026, 12, 31, 10, 0, tzinfo=SH)
    # 2027 unknown: weekends only. Fri Jan 1 is day 1 (a guess), Mon Jan 4 is day 2.
    due = add_working_days_provisional(start, 2)
    assert due.at == datetime(2027, 1, 4, 10, 0, tzinfo=SH)
    assert due.provisional and due.unknown_years == (2027,)
    # The strict count still refuses to guess.
    with pytest.raises(CalendarOutOfRange):
        add_working_days(start, 2)


def test_provisional_counting_inside_known_years_is_exact(without_file):
    # Across the Spring Festival 2026 (off Feb 15-23, make-up Sat Feb 14 and Sat Feb 28):
    # Fri Feb 13 10:00 + 1 working day = Sat Feb 14 (调休) 10:00; + 2 = Tue Feb 24.
    start = datetime(2026, 2, 13, 10, 0, tzinfo=SH)
    assert add_working_days_provisional(start, 1).at == datetime(2026, 2, 14, 10, 0, tzinfo=SH)
    due = add_working_days_provisional(start, 2)
    assert due.at == datetime(2026, 2, 24, 10, 0, tzinfo=SH) and not due.provisional


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("years: {2027: {notice: x, workdays: [2027-02-15]}}", "is a weekday"),
        ("years: {2027: {notice: x, holidays: [2028-01-01]}}", "belongs to another year"),
        (
            "years: {2027: {notice: x, holidays: [2027-02-14], workdays: [2027-02-14]}}",
            "both a holiday and a make-up day",
        ),
        ("years: {2027: {holidays: []}}", "notice"),
        ("years: [", "invalid YAML"),
    ],
)
def test_a_wrong_file_is_refused_with_the_reason(text, complaint):
    with pytest.raises(HolidayFileError, match=complaint):
        parse_holiday_file(text)
