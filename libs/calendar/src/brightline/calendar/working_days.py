"""Working days by China's official calendar, including make-up working days (调休).

Why a library and not "Monday to Friday": the State Council moves working days
every year. Around the Spring Festival and National Day some Saturdays and
Sundays become working days (e.g. Sunday 2024-02-04 and Sunday 2024-02-18) and
some weekdays become holidays. The `chinesecalendar` package (import name
`chinese_calendar`) records these announcements year by year.

Its data stops at the last year it was released for, and the State Council
announces the next year only in the autumn before. So an operator-maintained
holiday file (the annual notice, entered as data; `holiday_file.py`) lies on
top of the package: a year the file lists is decided by the file, any other
year by the package. A new year's notice is one data change, not an upgrade.

For a date neither knows, the strict functions (`is_working_day`,
`add_working_days`) raise `CalendarOutOfRange` and log it: a deadline computed
by guessing would be silently wrong. `add_working_days_provisional` is the one
explicit exception: it counts weekends only for the unknown years and SAYS so
(`provisional=True`), so the SLA monitor can open the deadline, raise an alarm
and recompute it once the year's data arrives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

import chinese_calendar
from chinese_calendar import constants as _cc_constants

from .business_time import to_business_tz
from .holiday_file import current_holiday_file

logger = logging.getLogger(__name__)


class CalendarOutOfRange(ValueError):
    """A date lies outside the years for which the official calendar is known."""

    def __init__(self, day: date, first_year: int, last_year: int) -> None:
        self.date = day
        self.first_year = first_year
        self.last_year = last_year
        super().__init__(
            f"no official working-day calendar for {day.isoformat()}: the calendar knows only "
            f"the years {first_year}-{last_year} (chinesecalendar plus the holiday file); enter "
            "the State Council's notice for that year in the holiday file "
            "(BRIGHTLINE_HOLIDAY_FILE)"
        )


@lru_cache(maxsize=1)
def package_years() -> tuple[int, int]:
    """First and last year the installed chinesecalendar has data for.

    Read from the library's own holiday table (the same bound it checks
    itself), so upgrading the package extends the range with no code change.
    """
    days = _cc_constants.holidays.keys()
    return min(days).year, max(days).year


def known_years() -> frozenset[int]:
    """Every year decided by the package or by the holiday file."""
    first, last = package_years()
    return frozenset(range(first, last + 1)) | current_holiday_file().years_known


def supported_years() -> tuple[int, int]:
    """First and last year of the contiguous range the calendar knows, from the package's first.

    A year in the file after a gap does not extend it: the gap is still unknown.
    """
    first, last = package_years()
    years = known_years()
    while last + 1 in years:
        last += 1
    return first, last


def known_until() -> date:
    """The last day whose working-day status is known (31 December of the last known year)."""
    return date(supported_years()[1], 12, 31)


def is_known(day: date) -> bool:
    return _as_date(day).year in known_years()


def _check_in_range(day: date) -> None:
    if day.year not in known_years():
        first, last = supported_years()
        error = CalendarOutOfRange(day, first, last)
        logger.error("calendar out of range: %s", error)
        raise error


def _as_date(day: date) -> date:
    # A datetime is also a date; silently taking its .date() would use whatever
    # timezone it happens to carry. Make the caller choose (business_date()).
    if isinstance(day, datetime):
        raise TypeError(
            "pass a date, not a datetime; use brightline.calendar.business_date() "
            "to get the date in the business timezone"
        )
    return day


def is_working_day(day: date) -> bool:
    """True if people work on `day` in mainland China (调休 included)."""
    day = _as_date(day)
    decided = current_holiday_file().decides(day)
    if decided is not None:
        return decided
    _check_in_range(day)
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:  # the library's own range check, as a backstop
        first, last = supported_years()
        error = CalendarOutOfRange(day, first, last)
        logger.error("calendar out of range: %s", error)
        raise error from exc


def _is_working_day_or_weekday(day: date) -> tuple[bool, bool]:
    """(working?, provisional?): outside the known years, Monday to Friday, said to be a guess."""
    if day.year in known_years():
        return is_working_day(day), False
    return day.weekday() < 5, True


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    candidate = _as_date(day) + timedelta(days=1)
    while not is_working_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def add_working_days(start: datetime, n: int, tz: tzinfo | str | None = None) -> datetime:
    """The deadline `n` working days after `start`.

    Rule: the deadline is the same clock time (in the business timezone) on
    the n-th working day strictly after start's business date. The day of
    receipt never counts, which matches the usual "N个工作日内" reading where
    counting begins the next day. Consequently, if `start` falls on a
    non-working day the count starts from the next working day: a ticket
    received on Saturday 10:00 with n=1 is due on Monday 10:00 (if Monday
    is a working day), the same as one received on Friday 10:00.

    `start` must be timezone-aware; the result is in the business timezone.
    n=0 returns `start` (in the business timezone) unchanged.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    local = to_business_tz(start, tz)
    day = local.date()
    for _ in range(n):
        day = next_working_day(day)
    # replace() keeps the wall-clock time and tzinfo; zoneinfo resolves the
    # offset for the new date (Asia/Shanghai has no DST, other zones might).
    return local.replace(year=day.year, month=day.month, day=day.day)


@dataclass(frozen=True)
class CountedDue:
    """A working-day due time, and whether an unknown year was counted weekends-only."""

    at: datetime
    provisional: bool
    unknown_years: tuple[int, ...] = ()


def add_working_days_provisional(
    start: datetime, n: int, tz: tzinfo | str | None = None
) -> CountedDue:
    """As add_working_days, but a day of a year neither the package nor the holiday file knows
    counts as a working day when it is Monday to Friday, and the result says it is provisional
    (with the unknown years), so the caller can alarm and recompute once the notice is entered."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    local = to_business_tz(start, tz)
    day = local.date()
    unknown: set[int] = set()
    for _ in range(n):
        day += timedelta(days=1)
        while True:
            working, guessed = _is_working_day_or_weekday(day)
            if guessed:
                unknown.add(day.year)
            if working:
                break
            day += timedelta(days=1)
    at = local.replace(year=day.year, month=day.month, day=day.day)
    if unknown:
        logger.warning(
            "provisional working-day count (weekends only) for unknown year(s) %s",
            sorted(unknown),
        )
    return CountedDue(at, bool(unknown), tuple(sorted(unknown)))


def working_days_between(start: date, end: date) -> int:
    """Working days in the half-open range (start, end].

    The counterpart of add_working_days: for any working day d reached by
    add_working_days, working_days_between(start_date, d) == n. Returns a
    negative count when end is before start, and 0 when they are equal.
    """
    start, end = _as_date(start), _as_date(end)
    _check_in_range(start)
    _check_in_range(end)
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
