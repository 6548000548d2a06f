"""The floor: which ready agent a ringing call is offered to, and what each event does to a seat."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.console.domain.floor import Floor, IllegalState

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def floor_with(*agents: str) -> Floor:
    floor = Floor()
    for i, agent in enumerate(agents):
        floor.sign_in(agent, agent, str(1000 + i), at(0))
    return floor


def offers(notices) -> list[tuple[str, str]]:
    return [(n.target, n.data["call_id"]) for n in notices if n.kind == "offer"]


def test_signed_in_agent_starts_not_ready_and_gets_no_call():
    floor = floor_with("a1")
    assert floor.seats["a1"].state == "not_ready"
    assert offers(floor.call_ringing("c1", "95598", at(1), "13900000000", at(1))) == []
    assert floor.queues(at(5))[0]["waiting"] == 1


def test_call_goes_to_the_agent_ready_the_longest():
    floor = floor_with("a1", "a2")
    floor.set_state("a2", "ready", at(1))
    floor.set_state("a1", "ready", at(2))
    assert offers(floor.call_ringing("c1", "95598", at(3), None, at(3))) == [("a2", "c1")]
    assert floor.seats["a2"].state == "ringing"
    assert offers(floor.call_ringing("c2", "95598", at(4), None, at(4))) == [("a1", "c2")]


def test_waiting_call_rings_when_an_agent_becomes_ready():
    floor = floor_with("a1")
    floor.call_ringing("c1", "95598", at(1), None, at(1))
    assert offers(floor.set_state("a1", "ready", at(2))) == [("a1", "c1")]


def test_not_ready_while_ringing_passes_the_call_on():
    floor = floor_with("a1", "a2")
    floor.set_state("a1", "ready", at(1))
    floor.call_ringing("c1", "95598", at(2), None, at(2))
    floor.set_state("a2", "ready", at(3))
    notices = floor.set_state("a1", "not_ready", at(4))
    assert ("a1", "c1") in [
        (n.target, n.data["call_id"]) for n in notices if n.kind == "offer_withdrawn"
    ]
    assert offers(notices) == [("a2", "c1")]


def test_answer_talk_end_wrap_up_ready():
    floor = floor_with("a1")
    floor.set_state("a1", "ready", at(1))
    floor.call_ringing("c1", "95598", at(2), None, at(2))
    floor.call_answered("c1", "a1", at(5), at(5))
    assert floor.seats["a1"].state == "talking"
    assert floor.seats["a1"].answered_today == 1
    with pytest.raises(IllegalState):
        floor.set_state("a1", "not_ready", at(6))
    floor.call_ended("c1", "normal", at(60))
    assert floor.seats["a1"].state == "wrap_up"
    floor.finish_wrap_up("a1", True, at(70))
    assert floor.seats["a1"].state == "ready"
    assert floor.calls == {}


def test_caller_hanging_up_while_ringing_frees_the_seat():
    floor = floor_with("a1")
    floor.set_state("a1", "ready", at(1))
    floor.call_ringing("c1", "95598", at(2), None, at(2))
    notices = floor.call_ended("c1", "abandoned", at(20))
    assert floor.seats["a1"].state == "ready"
    assert next(n.kind for n in notices if n.target == "a1") == "offer_withdrawn"


def test_call_answered_elsewhere_frees_the_offered_seat_and_counts_once():
    floor = floor_with("a1", "a2")
    floor.set_state("a1", "ready", at(1))
    floor.call_ringing("c1", "95598", at(2), None, at(2))
    floor.call_answered("c1", "a2", at(4), at(4))  # e.g. the other agent's softphone won
    assert floor.seats["a1"].state == "ready"
    floor.call_answered("c1", "a2", at(4), at(5))  # the Kafka echo of the same answer
    assert floor.seats["a2"].answered_today == 1


def test_agents_set_only_ready_not_ready_offline():
    floor = floor_with("a1")
    with pytest.raises(IllegalState):
        floor.set_state("a1", "talking", at(1))
    with pytest.raises(IllegalState):
        floor.set_state("ghost", "ready", at(1))


def test_a_not_ready_reason_is_kept_until_the_agent_is_ready_again():
    floor = floor_with("a1")
    floor.set_state("a1", "not_ready", at(1), reason="meal")
    assert floor.seats["a1"].reason == "meal"
    assert floor.seat_view(floor.seats["a1"], at(9))["reason"] == "meal"
    floor.set_state("a1", "ready", at(2), reason="meal")
    assert floor.seats["a1"].reason is None
    floor.call_ringing("c1", "95598", at(3), None, at(3))
    floor.call_answered("c1", "a1", at(4), at(4))
    floor.call_ended("c1", "normal", at(5))
    floor.finish_wrap_up("a1", False, at(6), reason="training")
    assert (floor.seats["a1"].state, floor.seats["a1"].reason) == ("not_ready", "training")


def test_an_offer_left_ringing_goes_to_the_next_ready_agent_and_the_seat_goes_not_ready():
    """Ring no answer: an agent who walked away from a ready seat no longer holds the caller."""
    limit = timedelta(seconds=8)
    floor = floor_with("a1", "a2")
    floor.set_state("a1", "ready", at(1))
    floor.set_state("a2", "ready", at(2))
    assert offers(floor.call_ringing("c1", "95598", at(3), None, at(3))) == [("a1", "c1")]
    assert floor.ring_no_answer(at(10.9), limit) == []  # still within the limit: nothing moves
    notices = floor.ring_no_answer(at(11), limit)
    assert [(n.target, n.data) for n in notices if n.kind == "offer_withdrawn"] == [
        ("a1", {"call_id": "c1", "cause": "ring_no_answer"})
    ]
    assert offers(notices) == [("a2", "c1")]
    a1 = floor.seats["a1"]
    assert (a1.state, a1.reason, a1.call_id) == ("not_ready", "ring_no_answer", None)
    # The next call does not ring at the empty chair either; it waits for a ready agent.
    assert offers(floor.call_ringing("c2", "95598", at(12), None, at(12))) == []
    # Back at the desk: ready again clears the reason, and the waiting call rings.
    assert offers(floor.set_state("a1", "ready", at(40))) == [("a1", "c2")]
    assert floor.seats["a1"].reason is None


def test_an_unanswered_offer_with_nobody_else_ready_waits_in_the_queue():
    floor = floor_with("a1")
    floor.set_state("a1", "ready", at(1))
    floor.call_ringing("c1", "95598", at(2), None, at(2))
    notices = floor.ring_no_answer(at(20), timedelta(seconds=8))
    assert offers(notices) == []
    assert [c.call_id for c in floor.waiting()] == ["c1"]
    assert floor.waiting()[0].offered_to is None


def test_answered_today_starts_again_at_the_centres_midnight():
    """The floor outlives a day (it is kept in the database): yesterday's calls are not today's.
    The day turns in the centre's timezone (Beijing's midnight is 16:00 UTC)."""
    from zoneinfo import ZoneInfo

    floor = Floor(zone=ZoneInfo("Asia/Shanghai"))
    floor.sign_in("a1", "a1", "1000", T0)

    def take(call_id: str, when: datetime) -> None:
        floor.set_state("a1", "ready", when)
        floor.call_ringing(call_id, "95598", when, None, when)
        floor.call_answered(call_id, "a1", when, when)
        floor.call_ended(call_id, "normal", when)
        floor.finish_wrap_up("a1", False, when, "break")

    evening = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    take("c1", evening)
    take("c2", evening + timedelta(minutes=30))
    assert (
        floor.seat_view(floor.seats["a1"], evening + timedelta(minutes=59))["answered_today"] == 2
    )
    after_midnight = evening + timedelta(hours=1, minutes=1)  # 00:01 the next day in Beijing
    # Nothing answered yet on the new day: the desk and the floor say 0, not yesterday's 2.
    assert floor.seat_view(floor.seats["a1"], after_midnight)["answered_today"] == 0
    assert floor.snapshot(after_midnight)["agents"][0]["answered_today"] == 0
    take("c3", after_midnight)
    assert floor.seat_view(floor.seats["a1"], after_midnight)["answered_today"] == 1
    assert "answered_on" not in floor.seat_view(floor.seats["a1"], after_midnight)


def test_signing_in_again_takes_the_name_the_identity_provider_gives_now():
    floor = floor_with("a1")
    floor.set_state("a1", "offline", at(1))
    seat = floor.sign_in("a1", "王晓丽", "1001", at(2))
    assert (seat.name, seat.staff_no, seat.state) == ("王晓丽", "1001", "not_ready")


def test_a_seat_whose_desk_went_away_goes_offline_and_its_offer_moves_on():
    """Desk lost: an agent who closed the browser without signing out leaves the floor's
    counts, and the call ringing at the empty seat goes to the next ready agent."""
    limit = timedelta(seconds=60)
    floor = floor_with("a1", "a2", "a3", "a4")
    floor.set_state("a1", "ready", at(1))
    floor.set_state("a2", "ready", at(2))
    floor.set_state("a3", "not_ready", at(3), "break")
    floor.call_ringing("c1", "95598", at(4), None, at(4))  # rings at a1, ready the longest
    floor.call_ringing("c2", "95598", at(5), None, at(5))
    floor.call_answered("c2", "a2", at(6), at(6))  # a2 talks: a call in hand keeps its seat
    # a1's and a3's desks were last seen at 30 s and a2's long ago; a4's was never seen, but
    # its seat changed at 0 s.
    seen = {"a1": at(30), "a2": at(6), "a3": at(30)}
    assert floor.absent(at(89.9), seen, limit) == [floor.seats["a4"]]
    notices = floor.leave_absent(at(90), seen, limit)
    assert {s: floor.seats[s].state for s in floor.seats} == {
        "a1": "offline",
        "a2": "talking",
        "a3": "offline",
        "a4": "offline",
    }
    assert {floor.seats[s].reason for s in ("a1", "a3", "a4")} == {"desk_lost"}
    assert ("a1", "c1") in [
        (n.target, n.data["call_id"]) for n in notices if n.kind == "offer_withdrawn"
    ]
    assert floor.waiting()[0].offered_to is None  # nobody else ready: c1 waits in the queue
    assert floor.leave_absent(at(91), seen, limit) == []  # once
    # a2 hangs up and wraps up ready: the waiting call rings there, not at an empty seat.
    floor.call_ended("c2", "normal", at(95))
    assert offers(floor.finish_wrap_up("a2", True, at(96))) == [("a2", "c1")]


def test_a_seat_counts_from_its_desk_last_seen_not_from_what_the_floor_did_to_it():
    limit = timedelta(seconds=60)
    floor = floor_with("a1", "a2", "a3")
    floor.set_state("a1", "ready", at(1))
    floor.set_state("a3", "ready", at(1.5))  # never seen: counts from its last change
    floor.call_ringing("c1", "95598", at(50), None, at(50))  # rings at a1 ...
    floor.ring_no_answer(at(58), timedelta(seconds=8))  # ... and out: a1 changed at 58 s
    seen = {"a1": at(40), "a2": at(55)}
    assert floor.leave_absent(at(99), seen, limit) == []
    assert floor.absent(at(100), seen, limit) == [floor.seats["a1"]]
    assert floor.absent(at(115), seen, limit) == [floor.seats["a1"], floor.seats["a2"]]


def test_signing_in_after_the_desk_was_lost_starts_not_ready_without_the_old_reason():
    floor = floor_with("a1")
    floor.leave_absent(at(100), {}, timedelta(seconds=60))
    assert (floor.seats["a1"].state, floor.seats["a1"].reason) == ("offline", "desk_lost")
    floor.sign_in("a1", "a1", "1000", at(200))
    assert (floor.seats["a1"].state, floor.seats["a1"].reason) == ("not_ready", None)
