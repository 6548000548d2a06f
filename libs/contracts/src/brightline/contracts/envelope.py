"""CloudEvents 1.0 in Kafka binary mode: attributes in ce_* headers, JSON data in the value,
the aggregate id as record key (so Kafka keeps one aggregate's events in order)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from brightline.contracts import jsontext
from brightline.contracts.ids import new_id
from brightline.contracts.registry import EventPayload, spec_for_type

_JSON = JSONFormat()
TRACEPARENT = "traceparent"
_JSON_CONTENT = b"application/json"


class InvalidEvent(ValueError):
    """A record that is not a Brightline CloudEvent: it can never succeed, so it is dead-lettered."""


@dataclass(frozen=True)
class Event:
    """One integration event as the code sees it, before and after Kafka."""

    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=new_id)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    traceparent: str | None = None

    @property
    def topic(self) -> str:
        return spec_for_type(self.type).topic.name

    # Any, not EventPayload: the payload's class is chosen at run time by `type`, which mypy
    # cannot follow; a reader narrows it by matching on the class (`case TicketRecordedV1():`).
    def payload(self) -> Any:
        """The typed payload; raises InvalidEvent when the data does not fit its contract."""
        return validated_data(self.type, self.data)

    def check(self) -> None:
        """payload()'s check alone, for a consumer that keeps the data as it came (records):
        raises InvalidEvent when the data does not fit its contract."""
        validated_data(self.type, self.data)


def validated_data(type_: str, data: dict[str, Any]) -> Any:
    spec = spec_for_type(type_)
    try:
        return spec.payload.model_validate(data)
    except Exception as error:  # pydantic.ValidationError and friends
        raise InvalidEvent(f"{type_}: {error}") from error


def new_event(payload: EventPayload, *, source: str, traceparent: str | None = None) -> Event:
    spec = payload.spec()
    return Event(
        type=spec.type,
        source=source,
        subject=str(getattr(payload, spec.key_field)),
        data=payload.model_dump(mode="json"),
        traceparent=traceparent,
    )


@dataclass(frozen=True)
class KafkaRecord:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def _utc_text(moment: datetime) -> str:
    # As the CloudEvents library writes a time: RFC 3339, UTC as Z.
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _plain_record(event: Event) -> KafkaRecord | None:
    """The record the CloudEvents library would write for a well-formed event (same headers in
    the same order, the same bytes), written directly: every relay writes one per outbox row,
    and the library's generic path (attribute validation, a custom JSON encoder) cost ~4x.
    None when the library would refuse the event (it then raises as it did)."""
    if (
        not (event.id and event.type and event.source and event.subject)
        or event.time.tzinfo is None
    ):
        return None
    headers = [
        ("ce_id", event.id.encode()),
        ("ce_type", event.type.encode()),
        ("ce_source", event.source.encode()),
        ("ce_subject", event.subject.encode()),
        ("ce_time", _utc_text(event.time).encode()),
        ("content-type", _JSON_CONTENT),
    ]
    traceparent = event.traceparent.encode() if event.traceparent else None
    if traceparent:
        headers.append(("ce_" + TRACEPARENT, traceparent))
    headers.append(("ce_specversion", b"1.0"))
    if traceparent:
        headers.append((TRACEPARENT, traceparent))
    key = event.subject.encode()
    return KafkaRecord(key=key, value=json.dumps(event.data).encode(), headers=headers)


def to_record(event: Event) -> KafkaRecord:
    if (record := _plain_record(event)) is not None:
        return record
    attributes: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "time": event.time,
        "datacontenttype": "application/json",
        "partitionkey": event.subject,
    }
    if event.traceparent:
        attributes[TRACEPARENT] = event.traceparent
    message = to_binary(CloudEvent(attributes, event.data), _JSON)
    # partitionkey becomes the record key; it is not repeated as a header.
    headers = [(k, v) for k, v in message.headers.items() if k != "ce_partitionkey"]
    if event.traceparent:
        headers.append((TRACEPARENT, event.traceparent.encode()))
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return KafkaRecord(key=key or event.subject.encode(), value=message.value, headers=headers)


# The attributes Brightline's producers write (to_record). A record with only these, in
# CloudEvents 1.0 and JSON, is decoded directly (_plain); anything else goes the library's way.
_PLAIN_ATTRIBUTES = frozenset(
    {"ce_id", "ce_type", "ce_source", "ce_specversion", "ce_subject", "ce_time", "ce_traceparent"}
)


def _plain(key: bytes | None, value: bytes | None, header_map: dict[str, bytes]) -> Event | None:
    """A record as Brightline writes it, decoded without the CloudEvents library (every consumer
    decodes every record of its topics, others' too: the library's generic parsing, dateutil's
    ISO 8601 and its validation passes cost ~40 us a record, this ~5). None when the record is
    anything else, or anything the library would refuse (it then decodes or refuses it)."""
    if (
        header_map.get("ce_specversion") != b"1.0"
        or header_map.get("content-type") != _JSON_CONTENT
        or any(n.startswith("ce_") and n not in _PLAIN_ATTRIBUTES for n in header_map)
    ):
        return None
    try:
        id_ = header_map["ce_id"].decode()
        type_ = header_map["ce_type"].decode()
        source = header_map["ce_source"].decode()
        subject = header_map["ce_subject"].decode() if "ce_subject" in header_map else None
        time_raw = header_map.get("ce_time")
        time = datetime.fromisoformat(time_raw.decode()) if time_raw is not None else None
        data = jsontext.loads(value) if value else None
    except (KeyError, ValueError):  # missing, not UTF-8, not ISO 8601 here, not JSON
        return None
    if not (id_ and type_ and source) or subject == "" or (time and time.tzinfo is None):
        return None
    if not isinstance(data, dict):
        return None
    traceparent = header_map.get(TRACEPARENT)
    return Event(
        id=id_,
        type=type_,
        source=source,
        subject=subject or (key.decode() if key else ""),
        time=time or datetime.now(UTC),
        data=data,
        traceparent=traceparent.decode() if traceparent else None,
    )


def from_record(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> Event:
    header_map = {name: raw for name, raw in headers}
    if "ce_type" not in header_map or "ce_id" not in header_map:
        raise InvalidEvent("record has no ce_id/ce_type headers: not a CloudEvent in binary mode")
    if (event := _plain(key, value, header_map)) is not None:
        return event
    try:
        cloud = from_binary(KafkaMessage(headers=header_map, key=key, value=value or b""), _JSON)
        data = cloud.get_data()
        if isinstance(data, (bytes, str)):
            data = json.loads(data)
    except Exception as error:  # malformed JSON, bad time, missing attribute
        raise InvalidEvent(f"cannot decode CloudEvent: {error}") from error
    if not isinstance(data, dict):
        raise InvalidEvent("CloudEvent data must be a JSON object")
    traceparent = header_map.get(TRACEPARENT)
    return Event(
        id=cloud.get_id(),
        type=cloud.get_type(),
        source=cloud.get_source(),
        subject=cloud.get_subject() or (key.decode() if key else ""),
        time=cloud.get_time() or datetime.now(UTC),
        data=data,
        traceparent=traceparent.decode() if traceparent else None,
    )
