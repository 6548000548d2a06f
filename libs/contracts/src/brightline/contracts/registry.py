"""The one list of event types: type name, topic, payload model and the field that keys it."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from brightline.contracts.topics import Topic


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: Topic
    # builtins.type: the field named `type` above shadows the builtin in this class body.
    payload: builtins.type[EventPayload]
    key_field: str
    summary: str


EVENT_SPECS: dict[str, EventSpec] = {}


class EventPayload(BaseModel):
    """Base of every versioned payload. Unknown fields are kept out so contracts stay honest."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    _spec: ClassVar[EventSpec]

    @classmethod
    def spec(cls) -> EventSpec:
        return cls._spec


def event(
    type_name: str, *, topic: Topic, key: str
) -> Callable[[type[EventPayload]], type[EventPayload]]:
    """Class decorator registering a payload: `@event("brightline.x.y.happened.v1", ...)`."""

    def register(cls: type[EventPayload]) -> type[EventPayload]:
        if type_name in EVENT_SPECS:
            raise ValueError(f"event type {type_name} registered twice")
        if key not in cls.model_fields:
            raise ValueError(f"{cls.__name__} has no key field {key!r}")
        spec = EventSpec(type_name, topic, cls, key, (cls.__doc__ or "").strip().splitlines()[0])
        cls._spec = spec
        EVENT_SPECS[type_name] = spec
        return cls

    return register


class UnknownEventType(KeyError):
    pass


def spec_for_type(type_name: str) -> EventSpec:
    spec = EVENT_SPECS.get(type_name)
    if spec is None:  # the payloads not imported yet (asked on every event: the import once)
        _load_all()
        try:
            spec = EVENT_SPECS[type_name]
        except KeyError:
            raise UnknownEventType(type_name) from None
    return spec


def _load_all() -> None:
    # Importing the package registers every payload module exactly once.
    import brightline.contracts.events  # noqa: F401
