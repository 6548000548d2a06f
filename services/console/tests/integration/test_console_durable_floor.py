"""The floor and the agent's call draft live in the console's database: two console replicas on
one database show one floor (an agent made ready through one is offered a call by either, and
the other replica's browsers hear of it), a restart keeps the floor, and the draft of the call
in hand comes back after a reload."""

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest

from brightline.console.settings import ConsoleSettings
from brightline.contracts.events.intake import CallEndedV1, CallRingingV1, EscalationResolvedV1
from brightline.messaging.testing import publish
from brightline.platform.testing import eventually

from .test_console_bff import _async, read_events, serving, token_of

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(infra_env, db_name):
    # The tests answer every offer however busy the machine; ringing out has its own test; a
    # seat they leave alone stays on the floor (losing its desk has its own test, too).
    return ConsoleSettings(
        **infra_env,
        database_name=db_name("console"),
        ring_no_answer_seconds=60,
        desk_lost_seconds=600,
    )


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_two_replicas_show_one_floor_and_a_restart_keeps_it(settings, infra_env):
    async with serving(settings) as one, serving(settings) as two:
        agent = token_of("agent-1001")
        boss = token_of("super-9001")
        seen_on_two: list[dict] = []
        reader = asyncio.create_task(read_events(two, agent, seen_on_two))
        try:
            await eventually(lambda: _async(len(seen_on_two) > 0))  # hello
            ready = await one.put("/api/desk/state", json={"state": "ready"}, headers=auth(agent))
            assert ready.status_code == 200, ready.text
            # The other replica sees the same seat, at once (no shared memory: the database).
            desk = (await two.get("/api/desk/state", headers=auth(agent))).json()
            assert desk["seat"]["state"] == "ready"
            floor = (await two.get("/api/supervisor/floor", headers=auth(boss))).json()
            assert {a["agent_id"]: a["state"] for a in floor["agents"]}["agent-1001"] == "ready"

            await publish(
                infra_env["kafka_bootstrap_servers"],
                infra_env["kafka_topic_prefix"],
                CallRingingV1(
                    call_id="call-durable-1",
                    caller_number="13912345670",
                    called_number="95598",
                    queue="95598",
                    rang_at=datetime.now(UTC),
                ),
            )
            # Both replicas consume the switch's events; the call is offered once, and the
            # agent's stream on replica two gets the offer whichever replica made it.
            offer = await eventually(
                lambda: _async(next((m for m in seen_on_two if m["kind"] == "offer"), None))
            )
            assert offer["data"]["call_id"] == "call-durable-1"
            for http in (one, two):
                desk = (await http.get("/api/desk/state", headers=auth(agent))).json()
                assert desk["seat"]["state"] == "ringing"
                assert desk["offer"]["call_id"] == "call-durable-1"
            floor = (await one.get("/api/supervisor/floor", headers=auth(boss))).json()
            assert [w["call_id"] for w in floor["waiting"]] == ["call-durable-1"]
            assert len([m for m in seen_on_two if m["kind"] == "offer"]) == 1

            # Not ready with a reason, through replica two: the call goes back to the queue.
            busy = await two.put(
                "/api/desk/state",
                json={"state": "not_ready", "reason": "meal"},
                headers=auth(agent),
            )
            seat = busy.json()["seat"]
            assert (seat["state"], seat["reason"]) == ("not_ready", "meal")
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    # A restart (both replicas gone, a new one started) shows the same floor.
    async with serving(settings) as again:
        desk = (await again.get("/api/desk/state", headers=auth(agent))).json()
        assert desk["seat"]["state"] == "not_ready" and desk["seat"]["reason"] == "meal"
        floor = (await again.get("/api/supervisor/floor", headers=auth(boss))).json()
        assert [w["call_id"] for w in floor["waiting"]] == ["call-durable-1"]


async def test_the_call_draft_survives_a_reload_and_the_escalation_outcome_reaches_the_agent(
    settings, infra_env
):
    async with serving(settings) as one, serving(settings) as two:
        agent = token_of("agent-1002")
        assert (await one.get("/api/desk/draft", headers=auth(agent))).status_code == 204
        draft = {
            "call_id": "call-draft-1",
            "data": {
                "ticketType": "complaint",
                "answers": {"x": 1},
                "form": {"caller_name": "李四"},
            },
        }
        saved = await one.put("/api/desk/draft", json=draft, headers=auth(agent))
        assert saved.status_code == 200, saved.text
        back = (await two.get("/api/desk/draft", headers=auth(agent))).json()
        assert back["call_id"] == "call-draft-1" and back["data"] == draft["data"]

        refused = await one.put(
            "/api/desk/draft", json={"call_id": "", "data": {}}, headers=auth(agent)
        )
        assert refused.status_code == 422
        assert (await two.get("/api/desk/draft", headers=auth(agent))).json() == back

        await publish(
            infra_env["kafka_bootstrap_servers"],
            infra_env["kafka_topic_prefix"],
            EscalationResolvedV1(
                escalation_id="esc-durable-1",
                outcome="taken_over",
                supervisor_id="super-9001",
                resolved_at=datetime.now(UTC),
            ),
        )

        async def outcome():
            r = await two.get("/api/desk/escalations/esc-durable-1", headers=auth(agent))
            return r.json()["outcome"]

        assert await eventually(outcome) == "taken_over"


def ringing(call_id: str, at: datetime) -> CallRingingV1:
    return CallRingingV1(
        call_id=call_id,
        caller_number="13912345671",
        called_number="95598",
        queue="95598",
        rang_at=at,
    )


async def test_what_the_switch_said_while_no_console_ran_reaches_the_floor(settings, infra_env):
    """The floor is kept in the database, so it must not miss what happened while no console
    ran: a caller who hung up then leaves the floor (or the supervisor's wallboard shows them
    waiting for hours), a caller who rang then is waiting on it."""
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    boss = auth(token_of("super-9001"))
    rang_at = datetime.now(UTC)

    async def waiting(http) -> list[str]:
        floor = (await http.get("/api/supervisor/floor", headers=boss)).json()
        return [w["call_id"] for w in floor["waiting"]]

    async with serving(settings) as console:
        await publish(bootstrap, prefix, ringing("call-gone-1", rang_at))
        assert await eventually(lambda: waiting(console)) == ["call-gone-1"]

    # No console runs: the caller hangs up, another rings.
    await publish(
        bootstrap,
        prefix,
        CallEndedV1(
            call_id="call-gone-1",
            queue="95598",
            cause="abandoned",
            rang_at=rang_at,
            answered_at=None,
            ended_at=datetime.now(UTC),
        ),
    )
    await publish(bootstrap, prefix, ringing("call-new-1", datetime.now(UTC)))

    async with serving(settings) as again:

        async def caught_up():
            return await waiting(again) == ["call-new-1"]

        assert await eventually(caught_up)


async def test_an_offer_that_rings_out_moves_on_once_with_two_replicas_watching(
    settings, infra_env
):
    """Ring no answer: an agent ready at an empty chair does not hold the caller. The offer
    moves to the next ready agent after the ring limit, the seat goes not ready, and with two
    replicas watching it moves once; with nobody else ready the call waits in the queue."""
    settings = settings.model_copy(update={"ring_no_answer_seconds": 2})
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    first, second, boss = token_of("agent-1001"), token_of("agent-1002"), token_of("super-9001")
    async with serving(settings) as one, serving(settings) as two:
        heard: dict[str, list[dict[str, Any]]] = {"first": [], "second": []}
        readers = [
            asyncio.create_task(read_events(two, first, heard["first"])),
            asyncio.create_task(read_events(one, second, heard["second"])),
        ]

        def said(who: str, kind: str) -> list[dict]:
            return [m["data"] for m in heard[who] if m["kind"] == kind]

        try:
            await eventually(lambda: _async(all(heard.values())))  # hello frames
            for agent in (first, second):  # the first is ready the longest: offered first
                ready = await one.put(
                    "/api/desk/state", json={"state": "ready"}, headers=auth(agent)
                )
                assert ready.status_code == 200, ready.text
            await publish(bootstrap, prefix, ringing("call-rona-1", datetime.now(UTC)))
            assert (await eventually(lambda: _async(said("first", "offer"))))[0][
                "call_id"
            ] == "call-rona-1"
            # Unanswered: withdrawn from the first seat and offered to the second.
            assert await eventually(lambda: _async(said("first", "offer_withdrawn"))) == [
                {"call_id": "call-rona-1", "cause": "ring_no_answer"}
            ]
            assert [
                o["call_id"] for o in await eventually(lambda: _async(said("second", "offer")))
            ] == ["call-rona-1"]
            desk = (await two.get("/api/desk/state", headers=auth(first))).json()
            assert (desk["seat"]["state"], desk["seat"]["reason"], desk["offer"]) == (
                "not_ready",
                "ring_no_answer",
                None,
            )
            # The second rings out too: nobody is ready, the call waits for whoever comes back.
            await eventually(lambda: _async(said("second", "offer_withdrawn")))
            floor = (await one.get("/api/supervisor/floor", headers=auth(boss))).json()
            assert [(w["call_id"], w["offered_to"]) for w in floor["waiting"]] == [
                ("call-rona-1", None)
            ]
            assert {a["agent_id"]: (a["state"], a["reason"]) for a in floor["agents"]} == {
                "agent-1001": ("not_ready", "ring_no_answer"),
                "agent-1002": ("not_ready", "ring_no_answer"),
            }
            # Each replica looked every second; each offer moved once.
            await asyncio.sleep(2)
            assert (
                len(said("first", "offer_withdrawn")) == len(said("second", "offer_withdrawn")) == 1
            )
            assert len(said("second", "offer")) == 1
        finally:
            for reader in readers:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader


async def test_a_seat_whose_desk_went_away_goes_offline_once_with_two_replicas_watching(
    settings, infra_env
):
    """Desk lost: a seat whose agent left without signing out (browser closed, no stream, no
    look at the desk) goes offline after the limit, once though two replicas sweep, and the call
    ringing at it goes on; a desk that streams events (from either replica) or polls its state
    keeps its seat however long it sits ready."""
    settings = settings.model_copy(update={"desk_lost_seconds": 6})
    bootstrap, prefix = infra_env["kafka_bootstrap_servers"], infra_env["kafka_topic_prefix"]
    gone, streaming, polling = (token_of(f"agent-100{i}") for i in (1, 2, 3))
    boss = token_of("super-9001")
    async with serving(settings) as one, serving(settings) as two:
        heard: dict[str, list[dict[str, Any]]] = {"streaming": [], "boss": []}
        stream = asyncio.create_task(read_events(two, streaming, heard["streaming"]))
        watching = asyncio.create_task(read_events(one, boss, heard["boss"]))

        async def poll_the_desk() -> None:
            while True:
                await one.get("/api/desk/state", headers=auth(polling))
                await asyncio.sleep(1)

        poller = asyncio.create_task(poll_the_desk())

        async def floor() -> dict[str, tuple[str, str | None]]:
            agents = (await one.get("/api/supervisor/floor", headers=auth(boss))).json()["agents"]
            return {a["agent_id"]: (a["state"], a["reason"]) for a in agents}

        def offers_to_streaming() -> list[str]:
            return [m["data"]["call_id"] for m in heard["streaming"] if m["kind"] == "offer"]

        try:
            await eventually(lambda: _async(all(heard.values())))  # hello frames
            for agent in (gone, streaming, polling):  # ready the longest first: gone
                ready = await two.put(
                    "/api/desk/state", json={"state": "ready"}, headers=auth(agent)
                )
                assert ready.status_code == 200, ready.text

            async def gone_left() -> bool:
                return (await floor())["agent-1001"] == ("offline", "desk_lost")

            assert await eventually(gone_left, timeout=120)
            seats = await floor()
            assert seats["agent-1002"] == seats["agent-1003"] == ("ready", None)
            # The next call rings at a seat somebody sits at, not the empty one ready longest.
            await publish(bootstrap, prefix, ringing("call-lost-1", datetime.now(UTC)))
            assert await eventually(lambda: _async(offers_to_streaming())) == ["call-lost-1"]

            # The streaming desk closes while the call rings at it: the seat leaves, the call
            # goes on to the desk that polls.
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await stream

            async def streaming_left() -> bool:
                return (await floor())["agent-1002"] == ("offline", "desk_lost")

            assert await eventually(streaming_left, timeout=120)
            desk = (await one.get("/api/desk/state", headers=auth(polling))).json()
            assert (desk["seat"]["state"], desk["offer"]["call_id"]) == ("ringing", "call-lost-1")
            # Two replicas swept every second; the boss heard each seat leave once.
            await asyncio.sleep(2)
            left = [
                m["data"]["agent_id"]
                for m in heard["boss"]
                if m["kind"] == "agent" and m["data"]["reason"] == "desk_lost"
            ]
            assert sorted(left) == ["agent-1001", "agent-1002"]
        finally:
            for task in (stream, watching, poller):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
