"""Chinese festivals falling on a date, for seasonal greetings at intake.

Agents greet with words "fit for the season" (seed 004, 95598 article §2), so
intake needs to know that today is, say, the Mid-Autumn Festival. Lunar
festivals move every Gregorian year, so we convert with `lunar_python`
(a maintained lunar/solar calendar) rather than keeping a table of dates.

Festival codes are stable identifiers: the intake greeting engine keys its
greeting templates on them, so never rename one. The display names can change.

This module is about festivals, not days off: whether a date is a working day
is answered by `working_days` (holidays and festivals are not the same set,
e.g. 重阳 is a festival but a normal working day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lunar_python import Solar


@dataclass(frozen=True)
class Festival:
    code: str  # stable key, e.g. "mid_autumn"
    name_zh: str
    name_en: str


SPRING_FESTIVAL = Festival("spring_festival", "春节", "Spring Festival")
# "new_year_eve" is the LUNAR new year's eve (除夕), the evening families gather;
# 31 December has no festival of its own here.
NEW_YEAR_EVE = Festival("new_year_eve", "除夕", "Chinese New Year's Eve")
LANTERN = Festival("lantern", "元宵节", "Lantern Festival")
QINGMING = Festival("qingming", "清明节", "Qingming Festival")
DRAGON_BOAT = Festival("dragon_boat", "端午节", "Dragon Boat Festival")
QIXI = Festival("qixi", "七夕节", "Qixi Festival")
MID_AUTUMN = Festival("mid_autumn", "中秋节", "Mid-Autumn Festival")
DOUBLE_NINTH = Festival("double_ninth", "重阳节", "Double Ninth Festival")
LABA = Festival("laba", "腊八节", "Laba Festival")
NEW_YEAR = Festival("new_year", "元旦", "New Year's Day")
WOMENS_DAY = Festival("womens_day", "妇女节", "International Women's Day")
LABOUR_DAY = Festival("labour_day", "劳动节", "Labour Day")
NATIONAL_DAY = Festival("national_day", "国庆节", "National Day")

ALL_FESTIVALS: tuple[Festival, ...] = (
    NEW_YEAR_EVE,
    SPRING_FESTIVAL,
    LANTERN,
    QINGMING,
    DRAGON_BOAT,
    QIXI,
    MID_AUTUMN,
    DOUBLE_NINTH,
    LABA,
    NEW_YEAR,
    WOMENS_DAY,
    LABOUR_DAY,
    NATIONAL_DAY,
)

# (lunar month, lunar day) -> festival. Only regular months: in a leap year
# the leap fifth month's fifth day is not 端午 (lunar_python marks leap months
# with a negative month number, which never matches these keys).
_LUNAR_FIXED: dict[tuple[int, int], Festival] = {
    (1, 1): SPRING_FESTIVAL,
    (1, 15): LANTERN,
    (5, 5): DRAGON_BOAT,
    (7, 7): QIXI,
    (8, 15): MID_AUTUMN,
    (9, 9): DOUBLE_NINTH,
    (12, 8): LABA,
}

_SOLAR_FIXED: dict[tuple[int, int], Festival] = {
    (1, 1): NEW_YEAR,
    (3, 8): WOMENS_DAY,
    (5, 1): LABOUR_DAY,
}

# The National Day "golden week": greetings say 国庆 on Oct 1-7, even though
# the official days off vary (and sometimes merge with Mid-Autumn).
_NATIONAL_DAY_WEEK = range(1, 8)


def _solar(day: date) -> Solar:
    return Solar.fromYmd(day.year, day.month, day.day)


def festivals_on(day: date) -> list[Festival]:
    """Festivals on `day`, lunar ones first, in a stable order.

    A date can carry several: 2025-10-06 is both Mid-Autumn and National Day.
    """
    if isinstance(day, datetime):
        # Which date a datetime is on depends on its timezone; make the caller
        # decide (brightline.calendar.business_date()).
        raise TypeError("pass a date, not a datetime; use business_date() first")
    found: list[Festival] = []
    lunar = _solar(day).getLunar()

    # 除夕 is the last day of the 12th lunar month, which is the 29th or the
    # 30th; the robust test is "tomorrow is lunar New Year's Day".
    tomorrow = _solar(day + timedelta(days=1)).getLunar()
    if tomorrow.getMonth() == 1 and tomorrow.getDay() == 1:
        found.append(NEW_YEAR_EVE)

    lunar_festival = _LUNAR_FIXED.get((lunar.getMonth(), lunar.getDay()))
    if lunar_festival is not None:
        found.append(lunar_festival)

    # 清明 is not a lunar date but a solar term (around Apr 4-6).
    if lunar.getJieQi() == "清明":
        found.append(QINGMING)

    solar_festival = _SOLAR_FIXED.get((day.month, day.day))
    if solar_festival is not None:
        found.append(solar_festival)
    if day.month == 10 and day.day in _NATIONAL_DAY_WEEK:
        found.append(NATIONAL_DAY)
    return found


def festival_codes_on(day: date) -> list[str]:
    """Just the stable codes, for callers that key on them."""
    return [f.code for f in festivals_on(day)]
