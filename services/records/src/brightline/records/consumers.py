"""Every topic, every event type: each becomes a RecordEvent. Known types are checked against
their contract first (a broken payload goes to the dead-letter topic like anywhere else); types
this build does not know reach the same handler through the consumer's fallback and are kept
in the timeline as they came."""

from __future__ import annotations

import brightline.contracts.events  # noqa: F401 - registers every payload in EVENT_SPECS
from brightline.contracts import EVENT_SPECS, TOPICS, Event
from brightline.contracts.sealed import PersonalDataSeal
from brightline.messaging import Route, UnitOfWork
from brightline.records import handlers
from brightline.records.domain import commands
from brightline.records.domain.model import Observed

TOPICS_CONSUMED = list(TOPICS.values())


def observed(event: Event, data: dict | None = None) -> Observed:
    return Observed(
        id=event.id,
        type=event.type,
        source=event.source,
        subject=event.subject,
        time=event.time,
        data=event.data if data is None else data,
    )


async def on_unknown_event(event: Event, uow: UnitOfWork) -> None:
    await handlers.record_event(commands.RecordEvent(observed(event)), uow)


def routes(seal: PersonalDataSeal) -> dict[str, Route]:
    async def on_known_event(event: Event, uow: UnitOfWork) -> None:
        payload = event.payload()  # InvalidEvent (dead letter) when the data breaks its contract
        # Search finds tickets by phone, name and address: records opens what events seal (its
        # own database may hold them; its timeline never shows them).
        data = seal.opened_data(type(payload), event.data)
        await handlers.record_event(commands.RecordEvent(observed(event, data)), uow)

    return {type_name: on_known_event for type_name in EVENT_SPECS}
