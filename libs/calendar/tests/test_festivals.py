"""Festivals on a date. Dates checked against lunar_python and the 2025/2026
official calendars (e.g. 2025's Mid-Autumn is Oct 6, inside National Day week)."""

from datetime import UTC, date, datetime

import pytest

from brightline.calendar import ALL_FESTIVALS, festival_codes_on, festivals_on


@pytest.mark.parametrize(
    "day, codes",
    [
        ("2025-01-28", ["new_year_eve"]),  # 除夕: lunar 12-29 (2024's 12th month has 29 days)
        ("2025-01-29", ["spring_festival"]),
        ("2025-02-12", ["lantern"]),
        ("2025-04-04", ["qingming"]),  # solar term 清明
        ("2025-05-31", ["dragon_boat"]),
        ("2025-08-29", ["qixi"]),
        ("2025-10-06", ["mid_autumn", "national_day"]),
        ("2025-10-29", ["double_ninth"]),
        ("2026-01-26", ["laba"]),
        ("2026-02-16", ["new_year_eve"]),
        ("2026-02-17", ["spring_festival"]),
        ("2024-02-09", ["new_year_eve"]),  # 除夕 on lunar 12-30
        ("2025-01-01", ["new_year"]),
        ("2025-03-08", ["womens_day"]),
        ("2025-05-01", ["labour_day"]),
        ("2025-10-01", ["national_day"]),
        ("2025-10-07", ["national_day"]),
        ("2025-10-08", []),
        ("2025-03-17", []),
    ],
)
def test_festivals_on_date(day, codes):
    assert festival_codes_on(date.fromisoformat(day)) == codes


def test_festival_carries_names():
    (festival,) = festivals_on(date(2025, 1, 29))
    assert (festival.code, festival.name_zh, festival.name_en) == (
        "spring_festival",
        "春节",
        "Spring Festival",
    )


def test_codes_are_the_stable_ones_intake_keys_on():
    codes = {f.code for f in ALL_FESTIVALS}
    assert {
        "spring_festival",
        "lantern",
        "qingming",
        "dragon_boat",
        "mid_autumn",
        "national_day",
        "new_year",
        "labour_day",
        "double_ninth",
        "new_year_eve",
    } <= codes
    assert len(codes) == len(ALL_FESTIVALS)


def test_leap_fifth_month_is_not_dragon_boat():
    # 2009 had a leap 5th month; its 5th day (2009-06-27) is not 端午,
    # the regular one (2009-05-28) is.
    assert "dragon_boat" in festival_codes_on(date(2009, 5, 28))
    assert "dragon_boat" not in festival_codes_on(date(2009, 6, 27))


def test_datetime_is_refused():
    with pytest.raises(TypeError):
        festivals_on(datetime(2025, 1, 29, tzinfo=UTC))
