"""Validators shared by request schemas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from brightline.platform import clock


def unique_by(*keys: str) -> AfterValidator:
    """A list whose items must differ in `keys` (without keys: a list of plain values, each
    given once): a bulk import naming one key twice is refused with 422 at the edge
    (PostgreSQL's ON CONFLICT cannot update one row twice in a statement, and which of two rows
    should win is the sender's decision, not ours)."""

    def check(items: Sequence[Any]) -> Sequence[Any]:
        seen: dict[tuple[Any, ...], int] = {}
        for index, item in enumerate(items):
            key = tuple(getattr(item, name) for name in keys) if keys else (item,)
            if key in seen:
                same = f"the same {', '.join(keys)}" if keys else "the same value"
                raise ValueError(f"items {seen[key]} and {index} have {same}: {key}")
            seen[key] = index
        return items

    return AfterValidator(check)


# A business day a report can be asked about: the hotline's records start this century and a
# date far beyond the calendar is a typo. Outside this range PostgreSQL cannot even hold the
# window's end (9999-12-31 + 1 day), so it is refused at the edge with 422.
EARLIEST_BUSINESS_DAY = date(2000, 1, 1)
LATEST_BUSINESS_DAY = date(2099, 12, 31)
BusinessDay = Annotated[date, Field(ge=EARLIEST_BUSINESS_DAY, le=LATEST_BUSINESS_DAY)]


def _on_a_business_day(value: datetime) -> datetime:
    if not EARLIEST_BUSINESS_DAY <= value.date() <= LATEST_BUSINESS_DAY:
        raise ValueError(
            f"is not between {EARLIEST_BUSINESS_DAY.isoformat()} and "
            f"{LATEST_BUSINESS_DAY.isoformat()}"
        )
    return value


# A moment the hotline's calendar can speak of, past or to come (a greeting previewed for next
# Spring Festival), with its offset: a naive time would be read in the host's zone, and one in
# year 9999 cannot even be turned into Beijing time.
BusinessMoment = Annotated[AwareDatetime, AfterValidator(_on_a_business_day)]


# What a person writes for others to act on (a reply read to a customer, a reason a crew or a
# department reads, a ticket's description): trimmed, and never blank. Spaces alone (the
# ideographic one too) passed min_length=1: a department could answer a complaint with nothing
# and meet its reply limit. The max length stays with each field (Field(max_length=...)).
Said = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# Where a page of a list starts: deep enough for any worklist, and never a number PostgreSQL's
# OFFSET cannot hold (a 20-digit offset was a 500 from asyncpg, not a 422 naming it).
PageOffset = Annotated[int, Query(ge=0, le=1_000_000)]


def near_now(past: timedelta, future: timedelta) -> AfterValidator:
    """A time from the edge must sit near now: one years off (a clock reset to its epoch, a typo,
    a form's default) is refused with 422 naming the field, never stored and dropped or
    mis-counted downstream (a deadline the calendar cannot count, a breach dated next year)."""

    def check(value: datetime) -> datetime:
        at = clock.now()
        if value > at + future:
            raise ValueError(f"is more than {_span(future)} ahead of now ({at.isoformat()})")
        if value < at - past:
            raise ValueError(f"is more than {_span(past)} before now ({at.isoformat()})")
        return value

    return AfterValidator(check)


def _span(span: timedelta) -> str:
    if span.days and not span.seconds:
        return f"{span.days} days"
    return str(span)


# How far ahead of our clock another's may run (a phone's, a switch's, a form's) and still be
# "now": a few minutes of skew.
CLOCK_SKEW = timedelta(minutes=5)
# Something that has happened, said up to 30 days later: not in the future, not last season.
HappenedAt = Annotated[AwareDatetime, near_now(timedelta(days=30), CLOCK_SKEW)]
# What another system's clock says happened (a switch, the grid): up to a year back (an archive
# replayed), a few minutes of skew ahead, never the years-off clock of a device reset to its epoch.
SystemTime = Annotated[AwareDatetime, near_now(timedelta(days=366), CLOCK_SKEW)]
