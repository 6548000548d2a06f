"""OpenTelemetry tracing: one TracerProvider per process, spans for every HTTP request served
(FastAPI) and sent (httpx); Kafka hops carry `traceparent` (outbox row -> record header ->
consumer span, see brightline.messaging).

Export goes over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; without it nothing is
exported and nothing is configured (the API's no-op tracer costs next to nothing). Tests pass
an exporter (e.g. InMemorySpanExporter), which is wired through a SimpleSpanProcessor.
"""

from __future__ import annotations

import os
import threading

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

SERVICE_ATTRIBUTE = "brightline.service"
UNTRACED_PATHS = "healthz,readyz,metrics"

_lock = threading.Lock()
_provider: TracerProvider | None = None
_exporters: list[SpanExporter] = []


def configure_tracing(
    service_name: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Set the process's TracerProvider once; later calls reuse it (several apps may share a
    process, as in tests). Returns the provider, or None when tracing stays off."""
    global _provider
    with _lock:
        if (
            exporter is None
            and _provider is None
            and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        ):
            return None
        if _provider is None:
            _provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
            trace.set_tracer_provider(_provider)
            if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            _instrument_httpx()
        if exporter is not None and exporter not in _exporters:
            _exporters.append(exporter)
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
        return _provider


def _instrument_httpx() -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def instrument_app(app: FastAPI, service_name: str) -> None:
    """Server spans for every request except health and metrics, tagged with the service (several
    services may share one provider, hence one resource, in a test process)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    def tag_service(span, scope) -> None:
        if span and span.is_recording():
            span.set_attribute(SERVICE_ATTRIBUTE, service_name)

    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=UNTRACED_PATHS, server_request_hook=tag_service
    )
