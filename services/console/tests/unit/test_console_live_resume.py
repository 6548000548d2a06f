"""A browser reconnecting with Last-Event-ID gets the events it missed, and is told to reload
its views when they are no longer at hand."""

import json
from datetime import UTC, datetime

from brightline.console.live import LiveHub
from brightline.platform.auth import Principal, Role

SUPERVISOR = Principal(subject="super-9001", roles=frozenset({Role.SUPERVISOR}))


async def frames(hub: LiveHub, last_event_id: str | None, n: int) -> list[dict]:
    stream = hub.stream(SUPERVISOR, last_event_id=last_event_id)
    out = []
    for _ in range(n):
        frame = await anext(stream)
        out.append(json.loads(frame.split("data: ", 1)[1]))
    await stream.aclose()
    return out


async def test_reconnecting_replays_the_missed_events_and_resyncs_when_they_are_gone():
    hub = LiveHub("unused:9092", "t", recent=3)
    for n in range(1, 5):
        await hub.on_event(
            "brightline.intake.ticket.recorded.v1", f"t{n}", datetime.now(UTC), {}, f"e{n}"
        )
    hello, *missed = await frames(hub, "e2", 3)
    assert hello["kind"] == "hello"
    assert [m["id"] for m in missed] == ["e3", "e4"]
    # e1 left the window of three: the browser cannot be caught up event by event.
    assert [f["kind"] for f in await frames(hub, "e1", 2)] == ["hello", "resync"]


async def test_event_frames_carry_their_id_for_the_browser_to_send_back():
    hub = LiveHub("unused:9092", "t")
    await hub.on_event("brightline.intake.ticket.recorded.v1", "t1", datetime.now(UTC), {}, "e1")
    stream = hub.stream(SUPERVISOR)
    await anext(stream)  # hello
    hub.broadcast(hub.recent[-1])
    assert (await anext(stream)).startswith("id: e1\nevent: event\n")
    await stream.aclose()
