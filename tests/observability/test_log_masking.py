"""A JSON log line written inside a span carries the trace id and the ticket id; the caller's
phone number and name never appear in clear."""

import io
import json
import logging

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from brightline.platform.logging import configure_logging

PHONE = "13912345678"
NAME = "李四光"


@pytest.fixture
def json_lines():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("intake", json=True)
    out = io.StringIO()
    root.handlers[0].setStream(out)  # the service's own handler and formatter, writing here
    try:
        yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    finally:
        root.handlers, level = saved
        root.setLevel(level)
        structlog.reset_defaults()


def test_a_log_line_inside_a_span_has_the_trace_id_and_masks_phone_and_name(json_lines):
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("POST /tickets") as span:
        structlog.contextvars.bind_contextvars(ticket_id="T-20260101-0001")
        try:
            structlog.get_logger("brightline.intake").info(
                "ticket recorded",
                caller_name=NAME,
                phone=PHONE,
                note=f"caller asked to be called on {PHONE}",
            )
            logging.getLogger("brightline.intake").warning("callback number %s unreachable", PHONE)
        finally:
            structlog.contextvars.clear_contextvars()
        trace_id = format(span.get_span_context().trace_id, "032x")

    structured, plain = json_lines()
    assert structured["trace_id"] == trace_id and plain["trace_id"] == trace_id
    assert structured["ticket_id"] == "T-20260101-0001"
    assert structured["service"] == "intake"
    assert structured["phone"] == "139****5678"
    assert structured["caller_name"] == "李**"
    assert structured["note"] == "caller asked to be called on 139****5678"
    assert plain["event"] == "callback number 139****5678 unreachable"
    for line in (structured, plain):
        assert PHONE not in json.dumps(line, ensure_ascii=False)
        assert NAME not in json.dumps(line, ensure_ascii=False)


# A trace id, a span id and a ticket id whose hex holds digit runs shaped like a landline
# (0123456789) and a mobile (13912345678): about one id in fifty does.
TRACE_ID = "bf65a930c0123456789ebdeee6012ca6"
SPAN_ID = "a13912345678bcde"
TICKET_ID = "2f9dcceb-0123-4567-8901-a9c754185991"


def test_identifiers_are_never_masked_as_phone_numbers_but_phones_next_to_them_are(json_lines):
    structlog.get_logger("brightline.intake").info(
        f"audited POST /tickets/{TICKET_ID}/callback for {PHONE}",
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        ticket_id=TICKET_ID,
        traceparent=f"00-{TRACE_ID}-{SPAN_ID}-01",
        note=f"电话{PHONE}，工单{TICKET_ID}",
        phone=f"{PHONE}abcde",  # a phone field is masked whatever surrounds the number
    )

    (line,) = json_lines()
    assert line["trace_id"] == TRACE_ID and line["span_id"] == SPAN_ID
    assert line["ticket_id"] == TICKET_ID
    assert line["traceparent"] == f"00-{TRACE_ID}-{SPAN_ID}-01"
    assert line["event"] == f"audited POST /tickets/{TICKET_ID}/callback for 139****5678"
    assert line["note"] == f"电话139****5678，工单{TICKET_ID}"
    assert line["phone"] == "139****5678abcde"
