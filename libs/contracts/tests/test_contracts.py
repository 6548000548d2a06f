"""The event contracts: envelope round trip, registry sanity, and the AsyncAPI drift check."""

from datetime import UTC, datetime

import pytest

from brightline.contracts import (
    EVENT_SPECS,
    TOPICS,
    InvalidEvent,
    from_record,
    new_event,
    to_record,
)
from brightline.contracts.asyncapi import default_path, render
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.contracts.registry import _load_all

_load_all()


def ticket() -> TicketRecordedV1:
    return TicketRecordedV1(
        ticket_id="t-1",
        ticket_no="202611210000001",
        ticket_type="repair",
        recorded_at=datetime(2026, 11, 21, 8, 0, tzinfo=UTC),
        first_ask_owner="agent-1",
        description="停电",
    )


def test_binary_mode_round_trip_keeps_every_attribute():
    event = new_event(
        ticket(), source="/brightline/intake", traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    )
    record = to_record(event)
    headers = dict(record.headers)
    assert record.key == b"t-1"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"brightline.intake.ticket.recorded.v1"
    assert headers["content-type"] == b"application/json"
    assert from_record(record.key, record.value, record.headers) == event
    assert from_record(record.key, record.value, record.headers).payload() == ticket()


@pytest.mark.parametrize(
    "headers, value",
    [
        ([], b"{}"),
        (
            [
                ("ce_id", b"1"),
                ("ce_type", b"x"),
                ("ce_source", b"/s"),
                ("ce_specversion", b"1.0"),
                ("content-type", b"application/json"),
            ],
            b"not json",
        ),
    ],
)
def test_garbage_is_an_invalid_event(headers, value):
    with pytest.raises(InvalidEvent):
        from_record(b"k", value, headers)


def test_every_event_type_is_versioned_past_tense_and_on_a_known_topic():
    for name, spec in EVENT_SPECS.items():
        assert name.startswith("brightline.") and name.rsplit(".", 1)[1].startswith("v"), name
        assert spec.topic.name in TOPICS
        assert spec.key_field in spec.payload.model_fields


def test_asyncapi_document_matches_the_code():
    """Fails when a contract changed without `make docs`."""
    assert default_path().read_text() == render(), "docs/asyncapi.yaml is stale: run `make docs`"
