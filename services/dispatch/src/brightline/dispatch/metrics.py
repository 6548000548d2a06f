"""Dispatch's alarm metrics (Prometheus, served on /metrics by the platform app)."""

from prometheus_client import Gauge

# Orders no service area mapped: each waits for the duty dispatcher. Alarm on > 0.
ORDERS_NEEDING_ROUTING = Gauge(
    "dispatch_orders_needing_routing",
    "Repair work orders waiting in the needs-routing queue for the duty dispatcher",
)
