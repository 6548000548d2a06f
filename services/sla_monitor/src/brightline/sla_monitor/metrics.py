"""One Prometheus gauge per KPI, in the default registry (served on /metrics)."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import Gauge

from brightline.sla_monitor.kpis import CallbackMonth, KpiRow

_KPI_GAUGES = {
    "answered_within_threshold": Gauge(
        "sla_answered_within_threshold_ratio",
        "Share of offered calls answered within the call.answer limit (12 s)",
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
    "sla_callback_rate_month_projection_ratio", "Month-to-date callback rate"
)
CALLBACK_ALARM = Gauge(
    "sla_callback_rate_alarm", "1 when the month's callback rate projection is below target"
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
    return now - WINDOW, now
