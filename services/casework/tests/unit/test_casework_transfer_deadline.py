"""首问负责制: transfer within 1 working day, on China's official calendar (调休 included), as the
seed pack's `case.transfer` says (an opinion here; complaints and reports go on at once, in hours).

Dates checked against brightline.calendar (chinesecalendar): 2024-05-11 (Saturday) was a
make-up working day for Labour Day; 2024-02-10..17 was the Spring Festival holiday and
2024-02-18 (Sunday) a make-up working day; 2026-02-14 (Saturday) is a make-up working day
before the Spring Festival holiday 2026-02-15..23.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from brightline.calendar import is_working_day
from brightline.casework.first_ask import transfer_due as due_of

SH = ZoneInfo("Asia/Shanghai")


def transfer_due(opened_at):
    due, provisional = due_of("opinion", opened_at)
    assert not provisional
    return due


def at(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_the_dates_are_what_the_official_calendar_says():
    assert is_working_day(date(2024, 5, 11)) and date(2024, 5, 11).weekday() == 5
    assert not any(is_working_day(date(2024, 2, d)) for d in range(10, 18))
    assert is_working_day(date(2024, 2, 18)) and date(2024, 2, 18).weekday() == 6
    assert is_working_day(date(2026, 2, 14)) and not is_working_day(date(2026, 2, 16))


def test_friday_before_a_make_up_saturday_is_due_that_saturday():
    assert transfer_due(at(2024, 5, 10)) == at(2024, 5, 11)
    assert transfer_due(at(2026, 2, 13, 15, 45)) == at(2026, 2, 14, 15, 45)


def test_a_case_opened_before_the_spring_festival_skips_the_holiday():
    assert transfer_due(at(2024, 2, 9)) == at(2024, 2, 18)  # lands on the make-up Sunday
    assert transfer_due(at(2026, 2, 14)) == at(2026, 2, 24)  # opened on the make-up Saturday itself


def test_an_ordinary_weekend_does_not_count():
    assert transfer_due(at(2024, 3, 8)) == at(2024, 3, 11)  # Friday -> Monday


def test_utc_input_is_counted_on_the_beijing_date():
    # 2024-05-10 17:00 UTC is already Saturday 01:00 in Beijing, a make-up working day: due Monday.
    assert transfer_due(datetime(2024, 5, 10, 17, 0, tzinfo=ZoneInfo("UTC"))) == at(
        2024, 5, 13, 1, 0
    )


def test_an_unknown_year_is_counted_weekends_only_and_said_to_be_provisional():
    # Monday 2099-01-05 + 1 working day, 2099 unknown: Tuesday, and flagged as a guess.
    assert due_of("opinion", at(2099, 1, 5)) == (at(2099, 1, 6), True)


def test_a_complaint_goes_on_within_the_hour_of_the_pack():
    assert due_of("complaint", at(2026, 2, 13, 15, 45)) == (at(2026, 2, 13, 16, 45), False)
    assert due_of("report", at(2026, 2, 13, 23, 30)) == (at(2026, 2, 14, 0, 30), False)
