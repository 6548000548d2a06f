"""Dispatch's alarm metrics (Prometheus, served on /metrics by the platform app)."""

from prometheus_client import Gauge

# Orders no service area mapped: each waits for the duty dispatcher. Alarm on > 0.
ORDERS_NEEDING_ROUTING = Gauge(
    "dispatch_orders_needing_routing",
    "Repair work orders waiting in the needs-routing queue for the duty dispatcher",
)

# The crews' returns waiting for the duty dispatcher's review (回单审核): until one passes, its
# ticket stays open and its customer is not called back. Alarm on the oldest's wait.
RETURNS_AWAITING_REVIEW = Gauge(
    "dispatch_returns_awaiting_review",
    "Returned repair work orders waiting for the duty dispatcher's review",
)
OLDEST_RETURN_AWAITING_REVIEW = Gauge(
    "dispatch_oldest_return_awaiting_review_seconds",
    "How long the oldest return waiting for review has waited (0 when none waits)",
)

# The crews' requests to cancel waiting for the duty dispatcher's answer (申请撤单): the crew may
# have stopped while the customer's arrival clock runs on. Alarm on the oldest's wait.
CANCEL_REQUESTS_WAITING = Gauge(
    "dispatch_cancel_requests_waiting",
    "Crews' requests to cancel a repair work order waiting for the duty dispatcher",
)
OLDEST_CANCEL_REQUEST_WAITING = Gauge(
    "dispatch_oldest_cancel_request_waiting_seconds",
    "How long the oldest request to cancel has waited (0 when none waits)",
)
