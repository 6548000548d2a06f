"""One trace follows a repair ticket through three services: the HTTP call to intake, the
ticket event through Kafka into dispatch (which emits a work order), and the work-order event
into the SLA monitor (which opens the arrival deadline). The three apps run in this process
against the real broker and database, sharing one TracerProvider with an in-memory exporter;
the trace context travels only in the events (outbox row -> record header -> consumer span)."""

from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from brightline.dispatch.main import create_app as create_dispatch
from brightline.dispatch.settings import DispatchSettings
from brightline.intake.main import create_app as create_intake
from brightline.intake.settings import IntakeSettings
from brightline.platform.auth import Role
from brightline.platform.telemetry import SERVICE_ATTRIBUTE, configure_tracing
from brightline.platform.testing import bearer, eventually, running
from brightline.sla_monitor.main import create_app as create_sla
from brightline.sla_monitor.settings import SlaMonitorSettings

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()
AGENT = bearer(Role.AGENT, subject="agent-9")
TICKET_RECORDED = "brightline.intake.ticket.recorded.v2"
WORK_ORDER_CREATED = "brightline.dispatch.work-order.created.v2"


@pytest.fixture
def spans():
    configure_tracing(
        "brightline-tests", exporter=EXPORTER
    )  # once per process; later calls reuse it
    EXPORTER.clear()
    return EXPORTER


def consumer_span(finished, group: str, event_type: str):
    return next(
        (
            s
            for s in finished
            if s.kind == SpanKind.CONSUMER
            and s.attributes.get("messaging.consumer.group.name") == group
            and s.attributes.get("cloudevents.event_type") == event_type
        ),
        None,
    )


async def test_one_trace_spans_intake_dispatch_and_sla_monitor(spans, infra_env, db_name):
    intake = create_intake(IntakeSettings(database_name=db_name("intake"), **infra_env))
    dispatch = create_dispatch(DispatchSettings(database_name=db_name("dispatch"), **infra_env))
    sla = create_sla(SlaMonitorSettings(database_name=db_name("sla"), **infra_env))
    async with (
        running(intake) as intake_http,
        running(dispatch) as dispatch_http,
        running(sla) as sla_http,
    ):
        created = await intake_http.post(
            "/tickets",
            headers=AGENT,
            json={
                "ticket_type": "repair",
                "description": "整个小区停电",
                "caller_name": "李四",
                "phone": "13912345678",
                "address": "幸福小区3栋",
                "fault_scope": "area",
                "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["id"]

        async def deadline():
            r = await sla_http.get("/deadlines", params={"ticket_id": ticket_id}, headers=AGENT)
            return r.json()

        [opened] = await eventually(deadline)
        [order] = (
            await dispatch_http.get("/work-orders", params={"ticket_id": ticket_id}, headers=AGENT)
        ).json()
        assert opened["subject_id"] == order["id"]

        # The SLA monitor's consumer span ends right after its commit: wait for it to be exported.
        await eventually(
            lambda: _async(
                consumer_span(spans.get_finished_spans(), "sla_monitor", WORK_ORDER_CREATED)
            )
        )
        finished = spans.get_finished_spans()

        [server] = [
            s
            for s in finished
            if s.kind == SpanKind.SERVER
            and s.attributes.get(SERVICE_ATTRIBUTE) == "intake"
            and s.attributes.get("http.route") == "/tickets"
        ]
        in_dispatch = consumer_span(finished, "dispatch", TICKET_RECORDED)
        in_sla = consumer_span(finished, "sla_monitor", WORK_ORDER_CREATED)
        assert in_dispatch is not None

        trace_id = server.context.trace_id
        assert {s.context.trace_id for s in (server, in_dispatch, in_sla)} == {trace_id}
        # Causal chain, not just a shared id: each hop's parent is a span of the hop before.
        intake_spans = {
            s.context.span_id
            for s in finished
            if s.context.trace_id == trace_id
            and (s is server or s.parent and _descends(s, server, finished))
        }
        assert in_dispatch.parent.span_id in intake_spans
        assert in_sla.parent.span_id == in_dispatch.context.span_id
        assert server.parent is None or server.parent.trace_id == trace_id
        services = {
            server.attributes[SERVICE_ATTRIBUTE],
            in_dispatch.attributes["messaging.consumer.group.name"],
            in_sla.attributes["messaging.consumer.group.name"],
        }
        assert services == {"intake", "dispatch", "sla_monitor"}

        # The backbone metrics moved with the events (default registry, served on /metrics).
        def sample(name, **labels):
            return REGISTRY.get_sample_value(name, labels) or 0

        assert (
            sample(
                "brightline_outbox_published_total",
                service="intake",
                topic="intake.tickets",
                event_type=TICKET_RECORDED,
            )
            >= 1
        )
        assert (
            sample(
                "brightline_consumer_events_handled_total",
                consumer="dispatch",
                event_type=TICKET_RECORDED,
            )
            >= 1
        )
        assert (
            sample(
                "brightline_consumer_events_handled_total",
                consumer="sla_monitor",
                event_type=WORK_ORDER_CREATED,
            )
            >= 1
        )

        # The lag gauge is refreshed with the offsets, at most once a second: wait for it.
        async def lag_published():
            text = (await dispatch_http.get("/metrics")).text
            return text if 'brightline_consumer_lag{consumer="dispatch",partition="' in text else ""

        text = await eventually(lag_published)
        assert 'brightline_outbox_backlog{service="dispatch"}' in text


async def _async(value):
    return value


def _descends(span, ancestor, finished) -> bool:
    by_id = {s.context.span_id: s for s in finished}
    while span is not None and span.parent is not None:
        if span.parent.span_id == ancestor.context.span_id:
            return True
        span = by_id.get(span.parent.span_id)
    return False
