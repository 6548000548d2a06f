"""One Prometheus gauge per KPI, in the default registry (served on /metrics)."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import Counter, Gauge

from brightline.sla_monitor.kpis import CallbackMonth, KpiRow

_KPI_GAUGES = {
    "answered_within_threshold": Gauge(
        "sla_answered_within_threshold_ratio",
        "Share of offered calls answered within the call.answer limit (12 s)",
    ),
    "answered_within_threshold_of_offered": Gauge(
        "sla_answered_within_threshold_of_offered_ratio",
        "12-second answer rate over calls offered (abandoned calls included); 12.0 s is within",
    ),
    "answered_within_threshold_of_answered": Gauge(
        "sla_answered_within_threshold_of_answered_ratio",
        "12-second answer rate over calls answered; 12.0 s is within",
    ),
    "average_speed_of_answer_s": Gauge(
        "sla_average_speed_of_answer_seconds", "Average speed of answer"
    ),
    "abandonment_rate": Gauge(
        "sla_abandonment_ratio", "Share of offered calls abandoned before an answer"
    ),
    "arrival_on_time_rate": Gauge(
        "sla_arrival_on_time_ratio", "Repair arrivals on time among decided ones"
    ),
    "complaint_reply_on_time_rate": Gauge(
        "sla_complaint_reply_on_time_ratio", "Complaint replies on time"
    ),
    "report_reply_on_time_rate": Gauge("sla_report_reply_on_time_ratio", "Report replies on time"),
    "callback_rate": Gauge("sla_callback_rate_ratio", "Called back / finished tickets"),
}
CALLBACK_PROJECTION = Gauge(
    "sla_callback_rate_month_projection_ratio",
    "Where the month's callback rate ends: pending callbacks counted as the decided ones went",
)
CALLBACK_ALARM = Gauge(
    "sla_callback_rate_alarm", "1 when the month's callback rate projection is below target"
)

# Inputs about a deadline already settled (met, cancelled) or errored: kept on the deadline
# (`late_inputs` of GET /deadlines) and counted here, never dropped silently.
LATE_INPUTS = Counter(
    "sla_late_inputs",
    "Inputs (meet, cancel, pause, resume) that came after their deadline was settled",
    ["limit_key", "input", "state"],
)

WINDOW = timedelta(hours=24)


def publish(row: KpiRow, month: CallbackMonth) -> None:
    """Set every gauge; a KPI with nothing to count is NaN (unknown), not 0 (terrible)."""
    for name, gauge in _KPI_GAUGES.items():
        value = getattr(row, name)
        gauge.set(float("nan") if value is None else value)
    CALLBACK_PROJECTION.set(float("nan") if month.projection is None else month.projection)
    CALLBACK_ALARM.set(1 if month.alarm else 0)


def window_ending(now: datetime) -> tuple[datetime, datetime]:
    """The last 24 h in whole minutes, up to the end of the current one: the on-time KPIs are
    counted per minute opened, so a window on minutes reads counts and no deadline."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return end - WINDOW, end


# ---------------------------------------------------------------- the calendar's horizon

CALENDAR_DAYS_LEFT = Gauge(
    "sla_calendar_days_until_data_ends",
    "Days from today (business date) to the last day the working-day calendar knows",
)
CALENDAR_HORIZON_WARNING = Gauge(
    "sla_calendar_horizon_warning",
    "1 from HORIZON_WARNING_DAYS before the working-day calendar's known data ends: enter the next "
    "year's State Council notice in the holiday file",
)
PROVISIONAL_DEADLINES = Gauge(
    "sla_deadlines_provisional",
    "Running deadlines counted Monday-Friday through a year the calendar does not know (alarm > 0)",
)
HORIZON_WARNING_DAYS = 60


def publish_calendar(days_left: int, provisional: int) -> None:
    CALENDAR_DAYS_LEFT.set(days_left)
    CALENDAR_HORIZON_WARNING.set(1 if days_left <= HORIZON_WARNING_DAYS else 0)
    PROVISIONAL_DEADLINES.set(provisional)
