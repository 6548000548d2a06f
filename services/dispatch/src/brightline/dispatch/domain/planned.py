"""Planned outages (计划停电): the 7-day notice rule. Pure: no clock, no I/O.

Seed 004 第十条(二)10: a planned outage for maintenance is announced to the public 7 days ahead
(lines, area, start and end), and important customers are notified. The outage management
system registers each planned outage with the time it was announced; the notice given is
starts_at - announced_at. Less than the pack's `outage.planned.notice` is a breach, reported with
the important customers who had to be told. The notice length comes from the policy pack in force
(brightline.calendar.policy), never from a setting here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Planned work cuts supply for hours, a few days at most: an end a season away is a typo, and
# every caller of the areas would hear the outage is on until then.
LONGEST = timedelta(days=30)


class PlannedOutageError(ValueError):
    """The planned outage is not consistent; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class NoticeCheck:
    required: timedelta
    given: timedelta

    @property
    def late(self) -> bool:
        return self.given < self.required


@dataclass(frozen=True)
class PlannedOutage:
    id: str
    area_codes: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime
    registered_at: datetime
    reason: str
    notice: NoticeCheck
    unit_id: str | None = None
    feeder_id: str | None = None
    important_customer_ids: tuple[str, ...] = field(default=())
    status: str = "planned"  # planned | cancelled

    @property
    def announcement_due_at(self) -> datetime:
        """The latest the announcement could go out and still keep the notice rule."""
        return self.starts_at - self.notice.required

    def active_at(self, moment: datetime) -> bool:
        return self.status == "planned" and self.starts_at <= moment < self.ends_at


def register(
    *,
    id: str,
    area_codes: list[str],
    starts_at: datetime,
    ends_at: datetime,
    announced_at: datetime,
    reason: str,
    notice: timedelta,
    now: datetime,
    unit_id: str | None = None,
    feeder_id: str | None = None,
    important_customer_ids: Sequence[str] = (),
) -> PlannedOutage:
    """A planned outage as registered now, with its notice checked against `notice`."""
    if not area_codes:
        raise PlannedOutageError("area_codes", "a planned outage covers at least one area")
    if ends_at <= starts_at:
        raise PlannedOutageError("ends_at", "ends_at must be after starts_at")
    if ends_at - starts_at > LONGEST:
        raise PlannedOutageError(
            "ends_at", f"ends_at is more than {LONGEST.days} days after starts_at"
        )
    if announced_at > now:
        raise PlannedOutageError(
            "announced_at", "announced_at is in the future: register it once announced"
        )
    if announced_at > starts_at:
        raise PlannedOutageError("announced_at", "announced after the outage started")
    return PlannedOutage(
        id=id,
        area_codes=tuple(dict.fromkeys(area_codes)),
        starts_at=starts_at,
        ends_at=ends_at,
        announced_at=announced_at,
        registered_at=now,
        reason=reason,
        notice=NoticeCheck(required=notice, given=starts_at - announced_at),
        unit_id=unit_id,
        feeder_id=feeder_id,
        important_customer_ids=tuple(dict.fromkeys(important_customer_ids)),
    )
