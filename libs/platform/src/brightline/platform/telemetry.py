"""OpenTelemetry tracing: one TracerProvider per process, spans for every HTTP request served
(FastAPI's own) and sent (httpx); Kafka hops carry `traceparent` (outbox row -> record header ->
consumer span, see brightline.messaging).

The SDK is configured always, exporter or not: spans then carry real trace ids, so every event
gets a `traceparent` and every log line of a request or a handled event its `trace_id`, and a
ticket can be followed across services in the logs alone. Without an exporter the spans are not
recorded (ids only, see SampledWhenExported); with one, sampling follows the standard
OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default: parent-based, always on). Export goes
over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, nowhere otherwise. Tests pass an
exporter (e.g. InMemorySpanExporter), which is wired through a SimpleSpanProcessor. Database
statements get client spans when spans are exported (SQLAlchemy instrumentation, see
instrument_engine).
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

SERVICE_ATTRIBUTE = "brightline.service"
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_lock = threading.Lock()
_provider: TracerProvider | None = None
# The exporters the provider was given, the OTLP one made from the environment included: read on
# every handled event (exporting), where a look-up in os.environ each time showed in profiles.
_exporters: list[SpanExporter] = []


def configure_tracing(
    service_name: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Set the process's TracerProvider once; later calls reuse it (several apps may share a
    process, as in tests). OTEL_SDK_DISABLED=true leaves the no-op API in place (None)."""
    global _provider
    with _lock:
        if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
            return None
        if _provider is None:
            _provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
            # Before any tracer is made: each takes the provider's sampler when it is made.
            _provider.sampler = SampledWhenExported(exporting, _provider.sampler)
            trace.set_tracer_provider(_provider)
            if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                otlp = OTLPSpanExporter()
                _exporters.append(otlp)
                _provider.add_span_processor(BatchSpanProcessor(otlp))
            _instrument_httpx()
        if exporter is not None and exporter not in _exporters:
            _exporters.append(exporter)
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
        return _provider


class SampledWhenExported(Sampler):
    """Records a span only while something exports it (`exporting()`), and then as `sampler`
    (the OTEL_TRACES_SAMPLER one) decides. Otherwise the span is not recorded: the SDK still
    gives it fresh trace and span ids, which name the log lines and travel as `traceparent`
    (flag "not sampled"), but no attributes, no events, no processors: a recorded server span
    cost about a tenth of a POST /tickets' CPU for a span nothing ever read."""

    def __init__(self, exporting: Callable[[], bool], sampler: Sampler) -> None:
        self.exporting = exporting
        self.sampler = sampler

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if not self.exporting():
            return SamplingResult(Decision.DROP)
        return self.sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"SampledWhenExported{{{self.sampler.get_description()}}}"


# Version 00 of the W3C traceparent, as every Brightline producer writes it. An event carries
# the traceparent only (the envelope writes no baggage): read it directly, not through the
# global composite propagator.
_TRACEPARENT_00 = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_PROPAGATOR = TraceContextTextMapPropagator()


def remote_parent(traceparent: str) -> trace.SpanContext:
    """The producer's span context named by an event's traceparent (invalid if it names none),
    read with one compiled pattern: the propagator's extract looked its pattern up in re's cache
    and built a context only to be taken apart again, per event (~3.5 us against ~1.2).
    Anything but version 00 goes the propagator's way."""
    if match := _TRACEPARENT_00.fullmatch(traceparent):
        trace_id, span_id, flags = match.groups()
        return trace.SpanContext(
            trace_id=int(trace_id, 16),
            span_id=int(span_id, 16),
            is_remote=True,
            trace_flags=trace.TraceFlags(int(flags, 16)),
        )
    context = _PROPAGATOR.extract({"traceparent": traceparent})
    return trace.get_current_span(context).get_span_context()


_TRACED: weakref.WeakSet[Engine] = weakref.WeakSet()


def tracing() -> bool:
    """The SDK is configured (not disabled): events get a traceparent, log lines a trace id."""
    return _provider is not None


def exporting() -> bool:
    """Spans leave the process: an OTLP endpoint or a test's exporter is configured. Without
    one, the trace context still names log lines and travels with events, but a span only its
    exporter would ever read is CPU for nothing (consumers then make none)."""
    return _provider is not None and bool(_exporters)


def instrument_engine(engine: AsyncEngine | Engine) -> None:
    """Client spans for every statement of this engine (sync or async), under the span of the
    request or handled event that runs it, when spans are exported (a span per statement cost
    about 3 % of a busy service's CPU). Per engine (the instrumentor's own instrument() is once
    per process and would miss engines made before it)."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    if sync_engine in _TRACED or not exporting():
        return
    name = "opentelemetry.instrumentation.sqlalchemy"
    usage = get_meter(name).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    EngineTracer(  # type: ignore[no-untyped-call]  # opentelemetry-instrumentation is untyped
        trace.get_tracer(name, tracer_provider=_provider), sync_engine, usage
    )
    _TRACED.add(sync_engine)


def _instrument_httpx() -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


# FastAPI's own server spans (FastAPI(telemetry=...)): one per request, named and attributed
# with its route once the router chose it, under the caller's traceparent, current while the
# route runs. No span per dependency or serialisation step, no OTel metrics or log records
# (Prometheus has the metrics, structlog the logs). It replaces the OpenTelemetry ASGI
# middleware, whose instrumentation added three layers to every request's stack.
SERVER_SPANS: TelemetryConfig = {
    "tracing": True,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "exclude": _untraced,
}


def tag_service(service_name: str) -> None:
    """Name the service on the current request's server span (several services may share one
    provider, hence one resource, in a test process)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(SERVICE_ATTRIBUTE, service_name)
