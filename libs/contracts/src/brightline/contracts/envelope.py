"""CloudEvents 1.0 in Kafka binary mode: attributes in ce_* headers, JSON data in the value,
the aggregate id as record key (so Kafka keeps one aggregate's events in order)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from brightline.contracts.registry import EventPayload, spec_for_type

_JSON = JSONFormat()
TRACEPARENT = "traceparent"


class InvalidEvent(ValueError):
    """A record that is not a Brightline CloudEvent: it can never succeed, so it is dead-lettered."""


@dataclass(frozen=True)
class Event:
    """One integration event as the code sees it, before and after Kafka."""

    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    traceparent: str | None = None

    @property
    def topic(self) -> str:
        return spec_for_type(self.type).topic.name

    # Any, not EventPayload: the payload's class is chosen at run time by `type`, which mypy
    # cannot follow; a reader narrows it by matching on the class (`case TicketRecordedV1():`).
    def payload(self) -> Any:
        """The typed payload; raises InvalidEvent when the data does not fit its contract."""
        spec = spec_for_type(self.type)
        try:
            return spec.payload.model_validate(self.data)
        except Exception as error:  # pydantic.ValidationError and friends
            raise InvalidEvent(f"{self.type}: {error}") from error


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


def to_record(event: Event) -> KafkaRecord:
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


def from_record(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> Event:
    header_map = {name: raw for name, raw in headers}
    if "ce_type" not in header_map or "ce_id" not in header_map:
        raise InvalidEvent("record has no ce_id/ce_type headers: not a CloudEvent in binary mode")
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
