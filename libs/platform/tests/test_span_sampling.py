"""Spans are recorded only while something exports them; unexported they still carry real trace
ids (log lines and events name them), at the cost of ids alone."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from brightline.platform.telemetry import SampledWhenExported, configure_tracing


def tracer(exported: list[bool]) -> trace.Tracer:
    sampler = SampledWhenExported(lambda: exported[0], ParentBased(TraceIdRatioBased(1.0)))
    return TracerProvider(sampler=sampler, shutdown_on_exit=False).get_tracer("test")


def test_an_unexported_span_is_not_recorded_but_has_real_ids():
    with tracer([False]).start_as_current_span("POST /tickets") as span:
        assert not span.is_recording()
        context = span.get_span_context()
        assert context.is_valid and not context.trace_flags.sampled
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # what an event emitted now carries
    version, trace_id, span_id, flags = carrier["traceparent"].split("-")
    assert (trace_id, span_id) == (f"{context.trace_id:032x}", f"{context.span_id:016x}")
    assert not int(flags, 16) & 1  # "not sampled": a consumer records no span under it either


def test_an_exported_span_is_sampled_as_the_configured_sampler_says():
    exported = [True]
    spans = tracer(exported)
    with spans.start_as_current_span("POST /tickets") as span:
        assert span.is_recording() and span.get_span_context().trace_flags.sampled
    exported[0] = False  # a test's exporter added later, or gone: decided per span
    with spans.start_as_current_span("POST /tickets") as span:
        assert not span.is_recording()


def test_the_process_provider_records_only_what_is_exported():
    provider = configure_tracing("sampling-test")
    assert provider is not None
    assert isinstance(provider.sampler, SampledWhenExported)
