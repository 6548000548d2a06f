"""brightline.calendar: working days (调休), business timezone, festivals, and the policy packs
(the time limits counted on that calendar, `brightline.calendar.policy`).

Shared by every service that counts time limits (sla-monitor, casework, callback) or
greets by the season (intake). The policy packs live here rather than in the SLA monitor so that
every service reads the one pack in force instead of a copy of its numbers in its own settings.
"""

from .business_time import (
    DEFAULT_BUSINESS_TZ,
    business_date,
    business_tz,
    now_in,
    require_aware,
    to_business_tz,
)
from .festivals import ALL_FESTIVALS, Festival, festival_codes_on, festivals_on
from .holiday_file import (
    HolidayFile,
    HolidayFileError,
    current_holiday_file,
    load_holiday_file,
    parse_holiday_file,
    reload_holiday_file,
    use_holiday_file,
)
from .working_days import (
    CalendarOutOfRange,
    CountedDue,
    add_working_days,
    add_working_days_provisional,
    is_known,
    is_working_day,
    known_until,
    known_years,
    next_working_day,
    package_years,
    supported_years,
    working_days_between,
)

__all__ = [
    "ALL_FESTIVALS",
    "DEFAULT_BUSINESS_TZ",
    "CalendarOutOfRange",
    "CountedDue",
    "HolidayFile",
    "HolidayFileError",
    "add_working_days_provisional",
    "current_holiday_file",
    "is_known",
    "known_until",
    "known_years",
    "load_holiday_file",
    "package_years",
    "parse_holiday_file",
    "reload_holiday_file",
    "use_holiday_file",
    "Festival",
    "add_working_days",
    "business_date",
    "business_tz",
    "festival_codes_on",
    "festivals_on",
    "is_working_day",
    "next_working_day",
    "now_in",
    "require_aware",
    "supported_years",
    "to_business_tz",
    "working_days_between",
]
