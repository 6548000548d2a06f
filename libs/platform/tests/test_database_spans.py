"""Database statements get client spans only when spans leave the process: without an exporter
nobody reads them, and a span per statement cost about 3 % of a busy service's CPU."""

from __future__ import annotations

import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from brightline.platform import telemetry
from brightline.platform.telemetry import configure_tracing, instrument_engine


def client_spans(exporter: InMemorySpanExporter) -> list:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT]


def select_one(engine: sa.Engine) -> None:
    with trace.get_tracer("db-spans-test").start_as_current_span("request"):
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))


def test_statements_make_spans_only_when_spans_are_exported(monkeypatch):
    exporter = InMemorySpanExporter()
    configure_tracing("db-spans-test", exporter)
    silent, exported = sa.create_engine("sqlite://"), sa.create_engine("sqlite://")

    with monkeypatch.context() as no_exporter:
        no_exporter.setattr(telemetry, "_exporters", [])
        no_exporter.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
        assert not telemetry.exporting()
        instrument_engine(silent)
    assert telemetry.exporting()
    instrument_engine(exported)

    exporter.clear()
    select_one(silent)
    assert client_spans(exporter) == []
    select_one(exported)
    [span] = client_spans(exporter)
    assert span.attributes.get("db.system") == "sqlite"
