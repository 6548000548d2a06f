"""Every topic, every event type: each becomes a RecordEvent. Known types are checked against
their contract first (a broken payload goes to the dead-letter topic like anywhere else); types
this build does not know reach the same handler through the consumer's fallback and are kept
in the timeline as they came."""

from __future__ import annotations

import brightline.contracts.events  # noqa: F401 - registers every payload in EVENT_SPECS
from brightline.contracts import EVENT_SPECS, Event
from brightline.contracts.topics import consumed_by
from brightline.records.domain import commands
from brightline.records.domain.model import Observed

# What this service subscribes to is declared once, in the topic registry (its ACLs too).
TOPICS = consumed_by("records")


def observed(event: Event) -> Observed:
    return Observed(
        id=event.id,
        type=event.type,
        source=event.source,
        subject=event.subject,
        time=event.time,
        data=event.data,
    )


def on_known_event(event: Event) -> commands.RecordEvent:
    # Raises InvalidEvent (dead letter) when the data breaks its contract. Only checked: the
    # timeline keeps the data as it came, so no payload is built (nor copied, opened).
    event.check()
    return commands.RecordEvent(observed(event))


def on_unknown_event(event: Event) -> commands.RecordEvent:
    return commands.RecordEvent(observed(event))


TRANSLATORS = {type_name: on_known_event for type_name in EVENT_SPECS}
FALLBACK = on_unknown_event
