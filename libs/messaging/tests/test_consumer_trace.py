"""A handled event continues its producer's trace (issue 21): while its route runs, the
producer's trace is current (log lines name its trace id) and the events the route emits carry
that trace id in their traceparent, with an exporter or without one. Only with one does the
consumer build SDK spans of its own: without, nothing would read them. Counted on the real
PostgreSQL (the outbox rows); the batch is handed to the consumer as a fetch would hand it."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from brightline.contracts import new_event
from brightline.contracts.topics import INTAKE_TICKETS
from brightline.messaging import EventConsumer
from brightline.messaging.audit import AuditTrail
from brightline.messaging.audit import metadata as audit_metadata
from brightline.messaging.schema import metadata as messaging_metadata
from brightline.messaging.testing import sample_ticket as ticket
from brightline.platform import telemetry
from brightline.platform.db import create_engine, database_url, ensure_database, session_factory
from brightline.platform.logging import add_trace_ids
from brightline.platform.telemetry import configure_tracing

pytestmark = pytest.mark.integration

# Two producers' spans, one per incoming event: each emitted event must follow its own cause.
TRACES = ["4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"]
PARENTS = ["00f067aa0ba902b7", "b7ad6b7169203331"]
EXPORTER = InMemorySpanExporter()
TYPE = "brightline.intake.ticket.recorded.v1"


def consumer_on(engine, route) -> EventConsumer:
    """A consumer never started: the test hands it what a fetch would. Its sessions write the
    audit trail, as a service runtime's do."""
    sessions = session_factory(engine)
    sessions.configure(info={"audit": AuditTrail("trace-test")})
    return EventConsumer(
        name="trace-consumer",
        bootstrap_servers="unused:9092",
        topics=[INTAKE_TICKETS],
        routes={TYPE: route},
        session_factory=sessions,
        dead_letter_producer=None,
        source="/brightline/test",
        max_attempts=1,
    )


@pytest.fixture
async def engine(postgres_server, db_name):
    name = db_name("trace")
    await ensure_database(postgres_server, name)
    engine = create_engine(database_url(postgres_server, name), pool_size=4)
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(audit_metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture(params=[False, True], ids=["no exporter", "exporter"])
def exporting(request, monkeypatch) -> bool:
    configure_tracing("consumer-trace-test", EXPORTER)  # once per process; later calls reuse it
    if not request.param:
        monkeypatch.setattr(telemetry, "_exporters", [])
    assert telemetry.exporting() is request.param
    EXPORTER.clear()
    return request.param


def noting(seen: list):
    """A route that notes whether an SDK span is recording while it runs and the trace id its
    log lines carry, and emits an event."""

    async def route(event, uow) -> None:
        recording = trace.get_current_span().is_recording()
        seen.append((recording, add_trace_ids(None, "info", {}).get("trace_id")))
        uow.emit(ticket(int(event.data["description"]) + 1000))

    return route


async def handle(consumer, events) -> None:
    route = consumer.routes[TYPE]
    items = [
        (SimpleNamespace(topic="tickets", partition=0, offset=n, headers=[]), event, route)
        for n, event in enumerate(events)
    ]
    await consumer._apply(items)


async def outbox_traceparents(engine) -> dict[str, str | None]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT key, traceparent FROM outbox"))
        return {key: traceparent for key, traceparent in rows}


async def audited_traces(engine) -> dict[str, str | None]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT detail->>'event_id', trace_id FROM audit_trail"))
        return {event_id: trace_id for event_id, trace_id in rows}


async def test_a_handled_event_continues_its_producers_trace(engine, exporting):
    seen: list = []
    consumer = consumer_on(engine, noting(seen))
    incoming = [
        dataclasses.replace(
            new_event(ticket(n), source="/brightline/producer"),
            traceparent=f"00-{TRACES[n]}-{PARENTS[n]}-01",
        )
        for n in range(2)
    ]

    await handle(consumer, incoming)  # one batch, one transaction, two causes

    # The producer's trace id names the route's log lines, and travels on with what it emits.
    assert [logged for _, logged in seen] == TRACES
    emitted = await outbox_traceparents(engine)
    assert [emitted[f"t-{n + 1000}"].split("-")[1] for n in range(2)] == TRACES
    # Each event's audit row names its trace, the first one's too (its row is closed when the
    # second event starts, outside the first one's trace).
    assert await audited_traces(engine) == {
        e.id: trace for e, trace in zip(incoming, TRACES, strict=True)
    }
    consumer_spans = [s for s in EXPORTER.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    if exporting:
        # A consumer span per event (and one for the commit), child of the producer's span; the
        # emitted event's parent is the consumer span.
        processed = [s for s in consumer_spans if s.name.startswith("process ")]
        assert [format(s.parent.span_id, "016x") for s in processed] == PARENTS
        assert [emitted[f"t-{n + 1000}"].split("-")[2] for n in range(2)] == [
            format(s.context.span_id, "016x") for s in processed
        ]
    else:
        # No SDK span: the producer's span itself is the emitted event's parent.
        assert not any(recording for recording, _ in seen)
        assert consumer_spans == []
        assert [emitted[f"t-{n + 1000}"] for n in range(2)] == [
            f"00-{TRACES[n]}-{PARENTS[n]}-01" for n in range(2)
        ]


async def test_an_event_without_a_trace_begins_one(engine, exporting):
    """Published by a process that does not trace: what it causes still gets a traceparent,
    and its log lines a trace id (a root span's with an exporter, a fresh one without)."""
    seen: list = []
    consumer = consumer_on(engine, noting(seen))
    await handle(consumer, [new_event(ticket(7), source="/brightline/untraced")])

    [(recording, logged)] = seen
    assert logged is not None
    assert recording is exporting
    emitted = (await outbox_traceparents(engine))["t-1007"]
    assert emitted is not None and emitted.split("-")[1] == logged
