"""The event contracts: envelope round trip, registry sanity, and the AsyncAPI drift check."""

from datetime import UTC, datetime

import pytest

from brightline.contracts import (
    EVENT_SPECS,
    TOPICS,
    InvalidEvent,
    envelope,
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


def test_a_record_as_brightline_writes_it_decodes_without_the_cloudevents_library(monkeypatch):
    # Every consumer decodes every record of its topics: the library's generic path cost ~4x
    # the direct one. What it decodes must be what the library decodes.
    records = [
        to_record(new_event(ticket(), source="/brightline/intake", traceparent=traceparent))
        for traceparent in (None, "00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    ]
    by_library = [from_record(r.key, r.value, r.headers) for r in records]

    def refused(*args, **kwargs):
        raise AssertionError("decoded by the CloudEvents library")

    monkeypatch.setattr(envelope, "from_binary", refused)
    assert [from_record(r.key, r.value, r.headers) for r in records] == by_library


@pytest.mark.parametrize(
    "change",
    [
        {"ce_specversion": b"0.3"},
        {"ce_time": b"not a time"},
        {"ce_time": b"2026-11-21T08:00:00"},  # no offset
        {"ce_source": b""},
        {"ce_subject": b""},
        {"ce_newattribute": b"x"},
        {"content-type": b"text/plain"},
    ],
)
def test_a_record_out_of_the_ordinary_is_decoded_or_refused_as_the_library_does(change):
    record = to_record(new_event(ticket(), source="/brightline/intake"))
    headers = list({**dict(record.headers), **change}.items())
    direct = envelope._plain(record.key, record.value, dict(headers))
    assert direct is None  # the library's way, whatever it decides


@pytest.mark.parametrize("traceparent", [None, "00-" + "c" * 32 + "-" + "d" * 16 + "-01"])
def test_a_record_is_written_byte_for_byte_as_the_cloudevents_library_writes_it(
    traceparent, monkeypatch
):
    # Every relay writes one record per outbox row: directly, not through the library's
    # generic path, and what consumers of any CloudEvents SDK read stays the same.
    event = new_event(ticket(), source="/brightline/intake", traceparent=traceparent)
    writes = []
    monkeypatch.setattr(envelope, "to_binary", lambda *a: writes.append(a))
    direct = envelope.to_record(event)
    assert writes == []
    monkeypatch.undo()
    monkeypatch.setattr(envelope, "_plain_record", lambda event: None)
    assert envelope.to_record(event) == direct  # the library's path writes the same


def test_a_work_order_created_already_offered_says_what_v1s_two_events_said():
    from brightline.contracts.events.dispatch import (
        WorkOrderCreatedV1,
        WorkOrderCreatedV2,
        WorkOrderStatusChangedV1,
    )

    at = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)
    v1 = WorkOrderCreatedV1(
        work_order_id="wo-1", ticket_id="t-1", unit_id="u-1", area_class="rural", created_at=at
    )
    offered = WorkOrderCreatedV2(
        **v1.model_dump(),
        status="assigned",
        crew_id="crew-1",
        status_changed_at=at,
        status_actor="system:dispatch",
        status_reason="nearest crew on duty",
    )
    assert offered.as_created_v1() == v1
    assert offered.status_change() == WorkOrderStatusChangedV1(
        work_order_id="wo-1",
        ticket_id="t-1",
        unit_id="u-1",
        status="assigned",
        previous_status="created",
        changed_at=at,
        crew_id="crew-1",
        actor="system:dispatch",
        reason="nearest crew on duty",
    )
    # Created and left for the duty dispatcher: no status change to tell.
    assert WorkOrderCreatedV2(**v1.model_dump()).status_change() is None
