"""brightline.messaging — the event backbone: idempotent producer, transactional outbox and
its relay, consumer with inbox, retries and dead letters, HTTP idempotency keys."""

from brightline.messaging import audit as _audit  # noqa: E402 - registers GET /audit/events
from brightline.messaging.bus import Handler, MessageBus, only_if, payload
from brightline.messaging.consumer import EventConsumer, Route, handles_only
from brightline.messaging.kafka import create_producer, ensure_topics, prefixed
from brightline.messaging.relay import OutboxRelay, outbox_backlog
from brightline.messaging.runtime import (
    BusDep,
    Handling,
    HandlingDep,
    RuntimeDep,
    ServiceRuntime,
    UnitOfWorkDep,
    service_lifespan,
    service_runtime,
)
from brightline.messaging.unit_of_work import UnitOfWork
from brightline.platform.app import register_service_middleware, register_service_router

# Every service that uses messaging keeps and serves its audit trail.
register_service_router(_audit.audit_router)
register_service_middleware(_audit.AuditMiddleware)

__all__ = [
    "BusDep",
    "Handler",
    "Handling",
    "HandlingDep",
    "MessageBus",
    "only_if",
    "payload",
    "EventConsumer",
    "OutboxRelay",
    "Route",
    "UnitOfWork",
    "create_producer",
    "handles_only",
    "ensure_topics",
    "RuntimeDep",
    "ServiceRuntime",
    "UnitOfWorkDep",
    "service_lifespan",
    "outbox_backlog",
    "prefixed",
    "service_runtime",
]
