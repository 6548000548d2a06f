"""KPIs over windows, computed from the facts the monitor keeps. Pure: rows in, numbers out.

Definitions (each a ratio of counts in the window; None when nothing counts):

- offered calls: calls that rang in the window and whose outcome is known (answered or ended);
  abandoned calls are offered calls.
- answered_within_threshold_of_offered (alias answered_within_threshold, kept for old readers):
  calls answered with a delay <= the call.answer limit (12 s in the seed) / calls offered. A call
  answered at exactly 12.0 s is within. This is the 95598 "12-second answer rate" as the seed
  reads it: a caller who hung up while waiting counts against it.
- answered_within_threshold_of_answered: the same numerator / calls answered: how fast agents
  pick up once they do, blind to abandonment. Both are published, each under its own name.
- average_speed_of_answer_s: mean answer delay of the answered calls.
- average_handle_time_s (handle time, 通话处理时长): mean of ended_at - answered_at over the calls
  answered and ended (talk time as the switch reports it; after-call work is not in intake's call
  record). A call still talking counts once it ends.
- abandonment_rate: calls ended with cause "abandoned" before an answer / offered.
- <kind>_on_time_rate for arrival (repair.arrival.*), complaint reply, report reply: among deadlines
  opened in the window that are decided (met, or breached and not yet met), the share met on time.
  Cancelled, errored and still-running deadlines are not counted.
- callback_rate: called back / finished, summed over the latest CallbackRateComputedV1 per key.
- planned_outage_notices: planned outages (计划停电) registered in the window (by registration
  time, the unit that registered them); planned_outage_notice_breaches: those announced less
  than the pack's outage.planned.notice (7 days) before they start, each a breach of the notice
  rule (004 第十条(二)10); planned_outage_notice_on_time_rate: the share announced in time.
- month projection of the callback rate, the centre's and each unit's: where the month ends, the
  callbacks still pending counted as reached in the proportion the decided ones were
  (project_callback_rate); an alarm when it falls below the pack's callback.rate target.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, tzinfo
from typing import Any

GROUPINGS = ("day", "unit", "ticket_type", "all", "15min", "30min")
# Service level per interval of the business day: calls grouped by the interval they rang in, keyed
# by the interval's local start ("2026-12-01T09:15:00", business timezone, no offset). Callback
# rates carry only a day: they fall in the `null` group of these groupings.
INTERVALS = {"15min": 15, "30min": 30}


@dataclass(frozen=True)
class KindOfLimit:
    """Which limit keys an on-time KPI counts: one exact key, or every key under a prefix. Declarative,
    so the same rule runs in Python (`matches`) and in SQL (the repository's aggregates)."""

    exact: str | None = None
    prefix: str | None = None

    def matches(self, key: str) -> bool:
        return key == self.exact if self.exact is not None else key.startswith(self.prefix or "\0")


ON_TIME_KINDS: dict[str, KindOfLimit] = {
    "arrival": KindOfLimit(prefix="repair.arrival."),
    "complaint_reply": KindOfLimit(exact="complaint.reply"),
    "report_reply": KindOfLimit(exact="report.reply"),
}

# The partial sums one group's KPIs are ratios of (what compute() accumulates from rows and the
# repository's SQL aggregates return per group).
SUMS = (
    "offered",
    "answered",
    "delay_sum",
    "handled",
    "handle_sum",
    "within",
    "abandoned",
    "finished",
    "called_back",
    "planned_notices",
    "planned_notices_late",
    *(f"{kind}_{part}" for kind in ON_TIME_KINDS for part in ("decided", "on_time")),
)


@dataclass
class KpiRow:
    group: str | None
    calls_offered: int = 0
    calls_answered: int = 0
    answered_within_threshold: float | None = None
    answered_within_threshold_of_offered: float | None = None
    answered_within_threshold_of_answered: float | None = None
    average_speed_of_answer_s: float | None = None
    average_handle_time_s: float | None = None
    abandonment_rate: float | None = None
    arrival_on_time_rate: float | None = None
    complaint_reply_on_time_rate: float | None = None
    report_reply_on_time_rate: float | None = None
    callback_finished: int = 0
    callback_called_back: int = 0
    callback_rate: float | None = None
    planned_outage_notices: int = 0
    planned_outage_notice_breaches: int = 0
    planned_outage_notice_on_time_rate: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS = list(KpiRow.__dataclass_fields__)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _get(row: Mapping | Any, name: str):
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def compute(
    *,
    calls: Iterable,
    deadlines: Iterable,
    rates: Iterable,
    group_by: str,
    tz: tzinfo,
    answer_threshold_s: float,
    planned: Iterable = (),
) -> list[KpiRow]:
    """`calls`: rows with rang_at, answered_at, ended_at, cause, answer_delay_seconds.
    `deadlines`: rows with limit_key, state, met_on_time, opened_at, unit_id, ticket_type.
    `rates`: rows with day, unit_id, ticket_type, finished, called_back.
    `planned`: planned outage notices, rows with registered_at, unit_id, notice_late."""
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}")

    def key(
        moment: datetime | date | None, unit: str | None, ticket_type: str | None
    ) -> str | None:
        if group_by == "all":
            return "all"
        if group_by in INTERVALS:
            if not isinstance(moment, datetime):
                return None
            local = moment.astimezone(tz)
            step = INTERVALS[group_by]
            start = local.replace(
                minute=local.minute - local.minute % step, second=0, microsecond=0
            )
            return start.replace(tzinfo=None).isoformat()
        if group_by == "day":
            day = moment.astimezone(tz).date() if isinstance(moment, datetime) else moment
            return None if day is None else day.isoformat()
        return unit if group_by == "unit" else ticket_type

    buckets: dict[str | None, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
    for call in calls:
        answered, ended = _get(call, "answered_at"), _get(call, "ended_at")
        if answered is None and ended is None:
            continue  # still ringing: no outcome yet
        b = buckets[key(_get(call, "rang_at"), None, None)]
        b["offered"] += 1
        if answered is not None:
            delay = _get(call, "answer_delay_seconds")
            if delay is None:
                delay = (answered - _get(call, "rang_at")).total_seconds()
            b["answered"] += 1
            b["delay_sum"] += delay
            b["within"] += delay <= answer_threshold_s
            if ended is not None:
                b["handled"] += 1
                b["handle_sum"] += (ended - answered).total_seconds()
        elif _get(call, "cause") == "abandoned":
            b["abandoned"] += 1
    for d in deadlines:
        kind = next(
            (k for k, match in ON_TIME_KINDS.items() if match.matches(_get(d, "limit_key"))), None
        )
        state = _get(d, "state")
        if kind is None or state not in ("met", "breached"):
            continue
        b = buckets[key(_get(d, "opened_at"), _get(d, "unit_id"), _get(d, "ticket_type"))]
        b[f"{kind}_decided"] += 1
        b[f"{kind}_on_time"] += state == "met" and bool(_get(d, "met_on_time"))
    for r in rates:
        b = buckets[key(_get(r, "day"), _get(r, "unit_id"), _get(r, "ticket_type"))]
        b["finished"] += _get(r, "finished")
        b["called_back"] += _get(r, "called_back")
    for p in planned:
        b = buckets[key(_get(p, "registered_at"), _get(p, "unit_id"), None)]
        b["planned_notices"] += 1
        b["planned_notices_late"] += bool(_get(p, "notice_late"))

    return rows_from_sums(buckets)


def rows_from_sums(buckets: Mapping[str | None, Mapping[str, float]]) -> list[KpiRow]:
    """One KpiRow per group, ordered by group (None last), from each group's partial sums (missing = 0)."""
    rows = []
    for group in sorted(buckets, key=lambda g: (g is None, g or "")):
        b = defaultdict(float, buckets[group])
        rows.append(
            KpiRow(
                group=group,
                calls_offered=int(b["offered"]),
                calls_answered=int(b["answered"]),
                answered_within_threshold=_ratio(b["within"], b["offered"]),
                answered_within_threshold_of_offered=_ratio(b["within"], b["offered"]),
                answered_within_threshold_of_answered=_ratio(b["within"], b["answered"]),
                average_speed_of_answer_s=_ratio(b["delay_sum"], b["answered"]),
                average_handle_time_s=_ratio(b["handle_sum"], b["handled"]),
                abandonment_rate=_ratio(b["abandoned"], b["offered"]),
                arrival_on_time_rate=_ratio(b["arrival_on_time"], b["arrival_decided"]),
                complaint_reply_on_time_rate=_ratio(
                    b["complaint_reply_on_time"], b["complaint_reply_decided"]
                ),
                report_reply_on_time_rate=_ratio(
                    b["report_reply_on_time"], b["report_reply_decided"]
                ),
                callback_finished=int(b["finished"]),
                callback_called_back=int(b["called_back"]),
                callback_rate=_ratio(b["called_back"], b["finished"]),
                planned_outage_notices=int(b["planned_notices"]),
                planned_outage_notice_breaches=int(b["planned_notices_late"]),
                planned_outage_notice_on_time_rate=_ratio(
                    b["planned_notices"] - b["planned_notices_late"], b["planned_notices"]
                ),
            )
        )
    return rows


def project_callback_rate(finished: int, called_back: int, unreached: int) -> float | None:
    """Where the month ends, not where it stands: the month-to-date ratio counts every ticket still
    waiting for its callback as a failure, so it sags at each day's end and recovers overnight (an
    alarm on it would page the floor every evening). The tickets still pending are counted as
    reached in the proportion the decided ones were (called back / called back + every attempt
    failed); with nothing decided yet they count as the month-to-date ratio has it."""
    if not finished:
        return None
    pending = max(finished - called_back - unreached, 0)
    decided = called_back + unreached
    if not decided:
        return called_back / finished
    return (called_back + pending * called_back / decided) / finished


@dataclass(frozen=True)
class CallbackSums:
    """A month-to-date callback count: tickets due a callback, customers reached, tickets whose
    every attempt failed. The rest are still pending."""

    finished: int = 0
    called_back: int = 0
    unreached: int = 0

    def __add__(self, other: CallbackSums) -> CallbackSums:
        return CallbackSums(
            self.finished + other.finished,
            self.called_back + other.called_back,
            self.unreached + other.unreached,
        )


@dataclass
class UnitCallbackMonth:
    unit_id: str
    finished: int
    called_back: int
    unreached: int
    pending: int
    month_to_date: float | None
    projection: float | None
    alarm: bool


@dataclass
class CallbackMonth:
    month: str
    finished: int
    called_back: int
    unreached: int
    month_to_date: float | None
    projection: float | None
    target: float
    alarm: bool
    units: list[UnitCallbackMonth]


def callback_month(rates: Iterable, *, month: date, target: float) -> CallbackMonth:
    """The month's callback rate and its projection, from the daily rates up to `month`'s day."""
    by_unit: dict[str, CallbackSums] = defaultdict(CallbackSums)
    for r in rates:
        day = _get(r, "day")
        if (day.year, day.month) == (month.year, month.month) and day <= month:
            by_unit[_get(r, "unit_id")] += CallbackSums(
                _get(r, "finished"), _get(r, "called_back"), _get(r, "attempted_unreached")
            )
    return callback_month_of(by_unit, month=month, target=target)


def callback_month_of(
    by_unit: Mapping[str, CallbackSums], *, month: date, target: float
) -> CallbackMonth:
    """The month's projection, the whole centre's and each unit's, from its month-to-date sums;
    an alarm where a projection falls below the pack's callback.rate target."""

    def figures(sums: CallbackSums) -> dict[str, Any]:
        projection = project_callback_rate(sums.finished, sums.called_back, sums.unreached)
        return dict(
            finished=sums.finished,
            called_back=sums.called_back,
            unreached=sums.unreached,
            month_to_date=_ratio(sums.called_back, sums.finished),
            projection=projection,
            alarm=projection is not None and projection < target,
        )

    total = sum(by_unit.values(), CallbackSums())
    return CallbackMonth(
        month=f"{month.year:04d}-{month.month:02d}",
        target=target,
        units=[
            UnitCallbackMonth(
                unit_id=unit,
                pending=max(sums.finished - sums.called_back - sums.unreached, 0),
                **figures(sums),
            )
            for unit, sums in sorted(by_unit.items())
        ],
        **figures(total),
    )
