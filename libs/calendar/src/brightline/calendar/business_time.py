"""The business timezone and helpers that refuse naive datetimes.

A hotline in China runs on Beijing time, but servers, Kafka timestamps and
databases run on UTC. Every "same clock time", "which date" and "is it a
working day" question depends on the timezone, so we make it explicit and
configurable (default Asia/Shanghai) instead of trusting the host's local time.
A naive datetime carries no timezone at all; guessing one is how deadlines
silently drift by eight hours, so every helper here rejects it.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_BUSINESS_TZ = "Asia/Shanghai"


def business_tz(name: str | None = None) -> ZoneInfo:
    """The business timezone: `name`, or Asia/Shanghai when none is given.

    zoneinfo reads the IANA database (the `tzdata` package is a dependency so
    this also works on hosts without /usr/share/zoneinfo).
    """
    return ZoneInfo(name or DEFAULT_BUSINESS_TZ)


def _as_tz(tz: tzinfo | str | None) -> tzinfo:
    if tz is None or isinstance(tz, str):
        return business_tz(tz)
    return tz


def require_aware(moment: datetime, what: str = "datetime") -> datetime:
    """Return `moment` unchanged, or raise ValueError if it is naive."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(
            f"{what} {moment.isoformat()} is naive; pass a timezone-aware datetime "
            "(e.g. datetime.now(timezone.utc)) so the business date is unambiguous"
        )
    return moment


def to_business_tz(moment: datetime, tz: tzinfo | str | None = None) -> datetime:
    """The same instant expressed in the business timezone."""
    return require_aware(moment).astimezone(_as_tz(tz))


def business_date(moment: datetime, tz: tzinfo | str | None = None) -> date:
    """The calendar date of `moment` as seen in the business timezone.

    23:30 UTC on Jan 1 is already Jan 2 in Beijing: working-day questions must
    be asked about this date, not about the UTC one.
    """
    return to_business_tz(moment, tz).date()


def now_in(tz: tzinfo | str | None = None) -> datetime:
    """The current time, aware, in the given (default business) timezone."""
    return datetime.now(_as_tz(tz))
