"""brightline.contracts — the event contracts every service shares: topics, CloudEvents
envelope, versioned payloads. Services import payloads from here and never from each other."""

from brightline.contracts.envelope import (
    Event,
    InvalidEvent,
    KafkaRecord,
    from_record,
    new_event,
    to_record,
)
from brightline.contracts.registry import (
    EVENT_SPECS,
    EventPayload,
    EventSpec,
    UnknownEventType,
    spec_for_type,
)
from brightline.contracts.topics import TOPICS, Topic, all_topic_names

__all__ = [
    "EVENT_SPECS",
    "Event",
    "EventPayload",
    "EventSpec",
    "InvalidEvent",
    "KafkaRecord",
    "TOPICS",
    "Topic",
    "UnknownEventType",
    "all_topic_names",
    "from_record",
    "new_event",
    "spec_for_type",
    "to_record",
]
