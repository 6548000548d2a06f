"""The message bus on its own: handlers get the unit of work they are handed and, by name, the
dependencies they ask for; translators' commands reach their handlers; declared filters stay."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from brightline.contracts import Event
from brightline.messaging import MessageBus, only_if
from brightline.messaging.bus import NoHandler
from brightline.messaging.consumer import wants


@dataclass(frozen=True)
class Ring:
    number: str


@dataclass(frozen=True)
class HangUp:
    number: str


def event(number: str) -> Event:
    return Event(type="test.rang.v1", source="/test", subject=number, data={"number": number})


def bus_recording(seen: list, reads: list) -> MessageBus:
    async def ring(command: Ring, uow, *, now, greeting: str) -> str:
        seen.append(("ring", command.number, uow, greeting))
        return greeting

    async def hang_up(command: HangUp, uow) -> None:
        seen.append(("hang_up", command.number, uow))

    def greeting() -> str:
        reads.append(1)
        return "hello"

    return MessageBus({Ring: ring, HangUp: hang_up}, greeting=greeting)


async def test_a_handler_gets_the_unit_of_work_and_what_it_names_read_per_message():
    seen, reads = [], []
    bus = bus_recording(seen, reads)
    assert await bus.handle(Ring("95598"), "uow-1") == "hello"
    await bus.handle(Ring("95598"), "uow-2")
    await bus.handle(HangUp("95598"), "uow-3")
    assert seen == [
        ("ring", "95598", "uow-1", "hello"),
        ("ring", "95598", "uow-2", "hello"),
        ("hang_up", "95598", "uow-3"),
    ]
    assert len(reads) == 2  # hang_up asks for no greeting: none is read for it


async def test_a_command_without_a_handler_is_refused():
    with pytest.raises(NoHandler, match="str"):
        await bus_recording([], []).handle("not a command", None)


def test_a_handler_asking_for_what_the_bus_does_not_provide_fails_at_build():
    async def needs_vault(command: Ring, uow, *, vault) -> None: ...

    with pytest.raises(TypeError, match="vault"):
        MessageBus({Ring: needs_vault})


async def test_routes_hand_the_translated_commands_to_the_bus_and_keep_declared_filters():
    seen = []
    bus = bus_recording(seen, [])
    routes = bus.routes(
        {
            "test.rang.v1": only_if(
                lambda e: e.data["number"] != "110",
                lambda e: [Ring(e.data["number"]), HangUp(e.data["number"])],
            ),
            "test.other.v1": lambda e: None,
        }
    )
    await routes["test.rang.v1"](event("95598"), "uow")
    await routes["test.other.v1"](event("95598"), "uow")
    assert [s[0] for s in seen] == ["ring", "hang_up"]
    assert not wants(routes["test.rang.v1"], event("110"))
    assert wants(routes["test.rang.v1"], event("95598"))
    assert wants(routes["test.other.v1"], event("110"))
