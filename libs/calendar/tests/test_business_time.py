from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from brightline.calendar import business_date, business_tz, now_in, require_aware, to_business_tz


def test_default_business_timezone_is_shanghai():
    assert business_tz() == ZoneInfo("Asia/Shanghai")
    assert business_tz("Asia/Urumqi") == ZoneInfo("Asia/Urumqi")


def test_to_business_tz_keeps_the_instant():
    utc = datetime(2025, 1, 1, 23, 30, tzinfo=UTC)
    local = to_business_tz(utc)
    assert local == utc
    assert (local.hour, local.day) == (7, 2)
    assert business_date(utc).isoformat() == "2025-01-02"


def test_naive_datetimes_are_rejected():
    naive = datetime(2025, 1, 1, 12, 0)
    for call in (require_aware, to_business_tz, business_date):
        with pytest.raises(ValueError, match="naive"):
            call(naive)


def test_now_in_is_aware():
    now = now_in()
    assert now.utcoffset() is not None
    assert now_in("UTC").utcoffset().total_seconds() == 0
