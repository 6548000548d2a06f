"""An event's traceparent read back into the producer's span context: one parser for the
consumer (the trace its work continues) and the audit trail (the trace id of an event's row)."""

from opentelemetry import trace

from brightline.platform.telemetry import remote_parent

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def test_version_00_names_the_producers_trace_span_and_flags():
    parent = remote_parent(f"00-{TRACE}-{SPAN}-01")
    assert parent.is_valid and parent.is_remote
    assert format(parent.trace_id, "032x") == TRACE
    assert format(parent.span_id, "016x") == SPAN
    assert parent.trace_flags == trace.TraceFlags.SAMPLED


def test_a_later_version_is_read_the_propagators_way():
    parent = remote_parent(f"01-{TRACE}-{SPAN}-00-extra")
    assert parent.is_valid and format(parent.trace_id, "032x") == TRACE


def test_a_traceparent_naming_no_trace_gives_an_invalid_context():
    for value in (f"00-{'0' * 32}-{SPAN}-01", "garbage", f"ff-{TRACE}-{SPAN}-01", ""):
        assert not remote_parent(value).is_valid, value
