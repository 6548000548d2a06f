"""CTI webhook -> call record -> events on intake.calls, over the real broker and database."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.contracts.topics import INTAKE_CALLS
from brightline.intake.main import create_app
from brightline.intake.settings import IntakeSettings
from brightline.messaging.kafka import prefixed
from brightline.messaging.testing import events_of, read_topic
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

pytestmark = pytest.mark.integration

SWITCH = bearer(Role.INTEGRATION, subject="cti-switch")
AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1024")
# The switch's clock near now: times far from now are refused at the edge (issue 15 point 11).
T0 = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


@pytest.fixture
async def client(infra_env, db_name):
    app = create_app(IntakeSettings(database_name=db_name("intake"), **infra_env))
    async with running(app) as client:
        yield client


def new_call(call_id, at=T0, number="13900000001"):
    return {
        "event": "newCall",
        "callId": call_id,
        "callerNumber": number,
        "calledNumber": "95598",
        "queue": "general",
        "timestamp": at.isoformat(),
    }


def answer(call_id, at):
    return {
        "event": "answer",
        "callId": call_id,
        "agentExtension": "8001",
        "agentId": "agent-7",
        "timestamp": at.isoformat(),
    }


def hangup(call_id, at, cause=None):
    body = {"event": "hangup", "callId": call_id, "timestamp": at.isoformat()}
    if cause:
        body["cause"] = cause
    return body


async def post(client, body):
    response = await client.post("/cti/events", json=body, headers=SWITCH)
    assert response.status_code == 200, response.text
    return response.json()


async def call_events(infra_env, call_id, expect):
    """The events of one call, once `expect` of them crossed the broker."""
    topic = prefixed(infra_env["kafka_topic_prefix"], INTAKE_CALLS.name)

    async def mine():
        records = await read_topic(
            infra_env["kafka_bootstrap_servers"], topic, expect=10**6, timeout=2
        )
        found = [
            e for e in events_of(records) if e.subject == call_id
        ]  # one key, one partition: in order
        return found if len(found) >= expect else None

    return await eventually(mine, timeout=30)


async def test_call_record_with_switch_times_duplicate_and_events(client, infra_env):
    await post(client, new_call("c-1"))
    first = await post(client, answer("c-1", T0 + timedelta(seconds=9)))
    again = await post(client, answer("c-1", T0 + timedelta(seconds=30)))  # a retried webhook
    assert first["duplicate"] is False and again["duplicate"] is True
    ended = await post(client, hangup("c-1", T0 + timedelta(minutes=3), "normal"))

    call = ended["call"]
    assert call["state"] == "ended" and call["end_cause"] == "normal"
    assert call["answer_delay_seconds"] == 9.0  # from the switch's timestamps, not our clock
    assert call["answered_within_12s"] is True
    assert datetime.fromisoformat(call["answered_at"]) == T0 + timedelta(
        seconds=9
    )  # the duplicate changed nothing
    fetched = (await client.get("/calls/c-1", headers=AGENT)).json()
    assert fetched["rang_at"] is not None and fetched["ended_at"] is not None

    events = await call_events(infra_env, "c-1", expect=3)
    assert [e.type for e in events] == [
        "brightline.intake.call.ringing.v2",
        "brightline.intake.call.answered.v1",
        "brightline.intake.call.ended.v1",
    ]
    assert events[1].payload().answer_delay_seconds == 9.0
    assert events[2].payload().cause == "normal"


async def test_out_of_order_events_still_give_the_answer_delay(client, infra_env):
    # The answer overtakes the ring (two webhook workers raced).
    early = await post(client, answer("c-2", T0 + timedelta(seconds=15)))
    assert early["call"]["answer_delay_seconds"] is None
    late = await post(client, new_call("c-2"))
    assert late["call"]["state"] == "answered"  # the late ring does not move the call back
    assert late["call"]["answer_delay_seconds"] == 15.0
    assert late["call"]["answered_within_12s"] is False
    await post(client, hangup("c-2", T0 + timedelta(minutes=1)))

    events = await call_events(infra_env, "c-2", expect=4)
    answered = [e.payload() for e in events if e.type == "brightline.intake.call.answered.v1"]
    assert answered[0].answer_delay_seconds is None
    assert answered[-1].answer_delay_seconds == 15.0  # re-announced once the ring time was known
    ended = [e.payload() for e in events if e.type == "brightline.intake.call.ended.v1"]
    assert ended[0].cause == "normal" and ended[0].answer_delay_seconds == 15.0


async def test_abandoned_call_before_answer(client, infra_env):
    await post(client, new_call("c-3"))
    ended = await post(client, hangup("c-3", T0 + timedelta(seconds=20)))
    assert ended["call"]["end_cause"] == "abandoned"
    assert ended["call"]["answered_at"] is None and ended["call"]["answer_delay_seconds"] is None
    events = await call_events(infra_env, "c-3", expect=2)
    assert events[-1].payload().cause == "abandoned"


async def test_switch_role_and_required_fields(client):
    assert (
        await client.post("/cti/events", json=new_call("c-4"), headers=AGENT)
    ).status_code == 403
    bad = await client.post(
        "/cti/events",
        json={"event": "newCall", "callId": "c-4", "timestamp": T0.isoformat()},
        headers=SWITCH,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in bad.json()["errors"]} == {"callerNumber", "calledNumber", "queue"}
    assert (await client.get("/calls/c-4", headers=AGENT)).status_code == 404  # nothing written


async def test_a_call_whose_hangup_never_comes_is_given_up_and_the_late_hangup_still_counts(
    infra_env, db_name
):
    """The switch rang two calls and then said nothing more of one (its hangup was lost, say
    while intake was away): the watch ends that one as abandoned once its limit has passed, so
    the floor stops showing a caller waiting and the answer limit settles. The answered call is
    left alone for as long as a call may last. The switch's own hangup, arriving late, still
    applies over the given-up end."""
    settings = IntakeSettings(
        database_name=db_name("intake"),
        unanswered_call_limit_seconds=1.0,
        call_watch_interval_seconds=0.2,
        **infra_env,
    )
    async with running(create_app(settings)) as client:
        await post(client, new_call("lost-1"))
        await post(client, new_call("kept-1"))
        await post(client, answer("kept-1", T0 + timedelta(seconds=8)))

        async def given_up():
            call = (await client.get("/calls/lost-1", headers=AGENT)).json()
            return call if call["state"] == "ended" else None

        call = await eventually(given_up, timeout=30)
        assert call["end_cause"] == "abandoned" and call["answered_at"] is None
        assert datetime.fromisoformat(call["ended_at"]) > T0 + timedelta(minutes=30)  # our clock
        kept = (await client.get("/calls/kept-1", headers=AGENT)).json()
        assert kept["state"] == "answered" and kept["ended_at"] is None

        events = await call_events(infra_env, "lost-1", expect=2)
        assert [e.type for e in events] == [
            "brightline.intake.call.ringing.v2",
            "brightline.intake.call.ended.v1",
        ]
        assert events[1].payload().cause == "abandoned"

        late = await post(client, hangup("lost-1", T0 + timedelta(seconds=50), "abandoned"))
        assert late["duplicate"] is False
        assert datetime.fromisoformat(late["call"]["ended_at"]) == T0 + timedelta(seconds=50)
        events = await call_events(infra_env, "lost-1", expect=3)
        assert events[2].payload().ended_at == T0 + timedelta(seconds=50)


async def test_an_answered_call_whose_hangup_never_comes_is_ended_and_leaves_the_floor(
    infra_env, db_name
):
    """An answered call the switch never reported ended (the hangup lost, or the agent's
    softphone closed with its browser) is ended as normal once it has been talked longer than
    any call lasts: the floor showed it "talking" for ever. A call answered since is kept."""
    settings = IntakeSettings(
        database_name=db_name("intake"),
        unended_call_limit_seconds=3600.0,
        call_watch_interval_seconds=0.2,
        **infra_env,
    )
    hours_ago = datetime.now(UTC) - timedelta(hours=2)
    async with running(create_app(settings)) as client:
        await post(client, new_call("talked-1", hours_ago))
        await post(client, answer("talked-1", hours_ago + timedelta(seconds=6)))
        await post(client, new_call("talking-1", datetime.now(UTC)))
        await post(client, answer("talking-1", datetime.now(UTC)))

        async def given_up():
            call = (await client.get("/calls/talked-1", headers=AGENT)).json()
            return call if call["state"] == "ended" else None

        call = await eventually(given_up, timeout=30)
        assert call["end_cause"] == "normal"
        assert datetime.fromisoformat(call["answered_at"]) == hours_ago + timedelta(seconds=6)
        events = await call_events(infra_env, "talked-1", expect=3)
        assert [e.type for e in events][-1] == "brightline.intake.call.ended.v1"
        assert events[-1].payload().cause == "normal"
        kept = (await client.get("/calls/talking-1", headers=AGENT)).json()
        assert kept["state"] == "answered" and kept["ended_at"] is None
