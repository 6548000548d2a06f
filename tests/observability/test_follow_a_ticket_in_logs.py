"""Follow a ticket in production with no trace exporter configured (issue 22, point 5): the
OpenTelemetry SDK is always on, so the event a request emits carries `traceparent`, the log
lines of the request and of the handled event carry `trace_id` and `ticket_id`, and database
statements get spans under the request's span."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from brightline.contracts.events.dispatch import WorkOrderReturnedV1
from brightline.messaging.schema import outbox
from brightline.messaging.testing import publish
from brightline.platform.auth import Role
from brightline.platform.db import create_engine, database_url
from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.telemetry import configure_tracing
from brightline.platform.testing import ServiceProcess, bearer, eventually, running, service_app

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-trace", staff_no="1201")
REPAIR = {
    "ticket_type": "repair",
    "description": "家里停电",
    "caller_name": "李四",
    "phone": "13912340002",
    "address": "幸福小区2栋",
    "fault_scope": "own_home",
    "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
}


def log_lines(path) -> list[dict]:
    lines = []
    for raw in path.read_text(errors="replace").splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    return lines


async def test_a_ticket_is_followed_by_trace_and_ticket_id_without_an_exporter(
    infra_env, db_name, postgres_server, tmp_path
):
    name = db_name("intake")
    prefix = f"{infra_env['kafka_topic_prefix']}{uuid.uuid4().hex[:6]}."
    env = {
        "DATABASE_URL": postgres_server,
        "KAFKA_BOOTSTRAP_SERVERS": infra_env["kafka_bootstrap_servers"],
        "KAFKA_TOPIC_PREFIX": prefix,
        "INTAKE_DATABASE_NAME": name,
        "LOG_JSON": "true",
    }
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in os.environ
    intake = ServiceProcess("intake", free_port(), env, tmp_path)
    intake.start()
    try:
        wait_ready_by_progress(intake, stall=180)
        async with httpx.AsyncClient(base_url=intake.url) as client:
            created = await client.post(
                "/tickets", json=REPAIR, headers={**AGENT, "Idempotency-Key": "trace-1"}
            )
        assert created.status_code == 201, created.text
        ticket = created.json()["id"]

        engine = create_engine(database_url(postgres_server, name), pool_size=1)
        try:
            async with engine.connect() as conn:
                traceparent = await conn.scalar(
                    sa.select(outbox.c.traceparent).where(outbox.c.key == ticket)
                )
        finally:
            await engine.dispose()
        assert traceparent and traceparent.startswith("00-"), traceparent
        trace_id = traceparent.split("-")[1]

        # The request's own log line names the trace and the ticket.
        async def request_logged():
            return [
                line
                for line in log_lines(intake.log_path)
                if line.get("ticket_id") == ticket and line.get("trace_id") == trace_id
            ]

        assert await eventually(request_logged)

        # A handled event about the ticket: its log lines name the ticket and a trace.
        await publish(
            infra_env["kafka_bootstrap_servers"],
            prefix,
            WorkOrderReturnedV1(
                work_order_id=f"wo-{uuid.uuid4().hex[:6]}",
                ticket_id=ticket,
                unit_id="unit-1",
                returned_at=datetime.now(UTC),
                resolution="repaired",
            ),
        )

        async def event_logged():
            return [
                line
                for line in log_lines(intake.log_path)
                if line.get("ticket_id") == ticket
                and "work-order.returned" in line.get("event", "")
                and line.get("trace_id")
            ]

        assert await eventually(event_logged)
    finally:
        intake.stop()


async def test_database_statements_are_spans_under_the_request(infra_env, db_name):
    exporter = InMemorySpanExporter()
    configure_tracing("brightline-tests", exporter=exporter)
    app = service_app("intake", **infra_env, database_name=db_name("intake"))
    async with running(app) as client:
        exporter.clear()
        created = await client.post(
            "/tickets", json=REPAIR, headers={**AGENT, "Idempotency-Key": "trace-2"}
        )
        assert created.status_code == 201, created.text
    spans = exporter.get_finished_spans()
    [server] = [
        s for s in spans if s.kind == SpanKind.SERVER and s.name.startswith("POST /tickets")
    ][:1]
    database = [
        s
        for s in spans
        if s.kind == SpanKind.CLIENT
        and s.context.trace_id == server.context.trace_id
        and (s.attributes.get("db.system") or s.attributes.get("db.system.name")) == "postgresql"
    ]
    # The ticket's INSERT among them (it rides in a WITH: the span is named by its first word).
    statements = [
        str(s.attributes.get("db.statement") or s.attributes.get("db.query.text") or s.name)
        for s in database
    ]
    assert any("INSERT INTO tickets" in sql for sql in statements), statements
