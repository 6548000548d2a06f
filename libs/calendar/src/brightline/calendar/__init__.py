"""brightline.calendar: working days (调休), business timezone, festivals.

Shared by every service that counts time limits (sla-monitor, casework) or
greets by the season (intake).
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
from .working_days import (
    CalendarOutOfRange,
    add_working_days,
    is_working_day,
    next_working_day,
    supported_years,
    working_days_between,
)

__all__ = [
    "ALL_FESTIVALS",
    "DEFAULT_BUSINESS_TZ",
    "CalendarOutOfRange",
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
