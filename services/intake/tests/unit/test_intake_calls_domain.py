"""The call record merges switch events in any order; the answer delay comes from the switch."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.intake.domain.calls import CallRecord, QuietLimits

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def record():
    return CallRecord(call_id="c", first_seen_at=T0)


def test_in_order_call():
    call = record()
    assert call.apply("newCall", T0, caller_number="139", called_number="95598", queue="q") == [
        "ringing"
    ]
    assert call.apply("answer", T0 + timedelta(seconds=11), agent_extension="8001") == ["answered"]
    assert call.answer_delay_seconds == 11.0
    assert call.apply("hangup", T0 + timedelta(minutes=2), cause="normal") == ["ended"]
    assert (call.state, call.end_cause, call.queue) == ("ended", "normal", "q")


def test_late_ring_completes_the_delay_and_reannounces_the_answer_without_moving_state_back():
    call = record()
    call.apply("answer", T0 + timedelta(seconds=20), agent_extension="8001")
    assert call.answer_delay_seconds is None
    call.apply("hangup", T0 + timedelta(minutes=1))
    assert call.apply("newCall", T0, caller_number="139", queue="q") == ["ringing", "answered"]
    assert call.state == "ended"
    assert call.answer_delay_seconds == 20.0
    assert call.end_cause == "normal"  # it was answered


def test_hangup_without_answer_is_abandoned():
    call = record()
    call.apply("newCall", T0, queue="q")
    call.apply("hangup", T0 + timedelta(seconds=30))
    assert call.end_cause == "abandoned" and call.answered_at is None


def test_silent_and_transferred_causes_are_kept():
    call = record()
    call.apply("answer", T0)
    call.apply("hangup", T0 + timedelta(seconds=15), cause="silent")
    assert call.end_cause == "silent"


def test_naive_switch_time_and_unknown_event_are_refused():
    with pytest.raises(ValueError):
        record().apply("answer", datetime(2026, 1, 5, 9, 0))
    with pytest.raises(ValueError):
        record().apply("transfer", T0)


# -- a hangup the switch never sent -----------------------------------------------------------
HOUR = timedelta(hours=1)
LIMITS = QuietLimits(ringing=HOUR, talking=4 * HOUR)


def test_a_call_ringing_with_no_word_past_the_limit_is_given_up_as_abandoned():
    call = record()
    call.apply("newCall", T0, queue="q")
    assert not call.quiet_too_long(T0 + HOUR, LIMITS)  # at the limit: still a caller waiting
    assert call.quiet_too_long(T0 + HOUR + timedelta(seconds=1), LIMITS)
    assert call.give_up(T0 + 2 * HOUR) == ["ended"]
    assert (call.state, call.end_cause, call.ended_at) == ("ended", "abandoned", T0 + 2 * HOUR)
    assert "hangup" not in call.seen  # the switch's own hangup is still taken


def test_the_switchs_late_hangup_replaces_the_given_up_end():
    call = record()
    call.apply("newCall", T0, queue="q")
    call.give_up(T0 + 2 * HOUR)
    assert call.apply("hangup", T0 + timedelta(seconds=40), cause="abandoned") == ["ended"]
    assert call.ended_at == T0 + timedelta(seconds=40)


def test_an_answered_call_with_no_hangup_past_the_talking_limit_is_ended_as_normal():
    """Not after the ringing limit: a long complaint call is not cut at an hour."""
    answered = record()
    answered.apply("newCall", T0, queue="q")
    answered.apply("answer", T0 + timedelta(seconds=5), agent_extension="8001")
    assert not answered.quiet_too_long(T0 + 3 * HOUR, LIMITS)
    assert not answered.quiet_too_long(T0 + 4 * HOUR + timedelta(seconds=5), LIMITS)
    assert answered.quiet_too_long(T0 + 4 * HOUR + timedelta(seconds=6), LIMITS)
    assert answered.give_up(T0 + 5 * HOUR) == ["ended"]
    assert (answered.state, answered.end_cause, answered.ended_at) == (
        "ended",
        "normal",
        T0 + 5 * HOUR,
    )
    # The switch's own hangup, late, still says when the call really ended.
    assert answered.apply("hangup", T0 + timedelta(minutes=12)) == ["ended"]
    assert answered.ended_at == T0 + timedelta(minutes=12)


def test_a_call_that_ended_or_answered_after_a_ring_heard_again_is_not_given_up():
    ended = record()
    ended.apply("newCall", T0, queue="q")
    ended.apply("hangup", T0 + timedelta(seconds=30))
    assert not ended.quiet_too_long(T0 + 30 * HOUR, LIMITS)
    with pytest.raises(ValueError):
        ended.give_up(T0 + 30 * HOUR)
