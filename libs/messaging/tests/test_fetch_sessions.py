"""The fetch-session bookkeeping (brightline.messaging.fetch_sessions), as pure logic: what each
request names, and what the client believes the broker holds after each kind of answer. The
sessions with a real broker are shown by test_throughput.py (a paced stream's counted fetches)
and every consumer test."""

from __future__ import annotations

from aiokafka.protocol.fetch import FetchRequest, FetchRequest_v6, FetchRequest_v11

from brightline.messaging.fetch_sessions import (
    LAST_EPOCH,
    SESSIONLESS_EPOCH,
    FetchSession,
    SessionFetchRequest,
)

MB = 1_048_576
FETCH_SESSION_ID_NOT_FOUND = 70


def wanted(**offsets: int):
    """Topic "t", partition p at offset: wanted(p0=5, p1=7)."""
    return [("t", [(int(k[1:]), v, MB) for k, v in offsets.items()])]


def test_the_first_request_is_full_and_opens_a_session():
    session = FetchSession()
    delta = session.next_request(wanted(p0=5, p1=7, p2=0))
    assert (delta.session_id, delta.epoch, delta.named) == (0, 0, 3)
    session.answered(0, 4242)
    assert (session.session_id, session.epoch, session.opened) == (4242, 1, 1)


def test_an_incremental_request_names_only_the_partitions_that_moved_and_those_let_go():
    session = FetchSession()
    session.next_request(wanted(p0=5, p1=7, p2=0))
    session.answered(0, 4242)
    delta = session.next_request(wanted(p0=5, p1=9))  # p1 consumed from; p2 no longer wanted
    assert (delta.session_id, delta.epoch) == (4242, 1)
    assert delta.sent == [("t", [(1, 9, MB)])]
    assert delta.forgotten == [("t", [2])]
    session.answered(0, 4242)
    assert session.epoch == 2
    # Nothing moved: a request naming no partition at all, the broker answers what arrived.
    idle = session.next_request(wanted(p0=5, p1=9))
    assert (idle.sent, idle.forgotten, idle.named, idle.epoch) == ([], [], 0, 2)
    # A partition taken back is named again, with its offset.
    session.answered(0, 4242)
    back = session.next_request(wanted(p0=5, p1=9, p2=3))
    assert back.sent == [("t", [(2, 3, MB)])]


def test_a_session_error_or_a_lost_answer_makes_the_next_request_full_again():
    session = FetchSession()
    session.next_request(wanted(p0=5))
    session.answered(0, 4242)
    session.next_request(wanted(p0=6))
    session.answered(FETCH_SESSION_ID_NOT_FOUND, 0)  # the broker restarted, say
    full = session.next_request(wanted(p0=6, p1=1))
    assert (full.session_id, full.epoch, full.named) == (0, 0, 2)
    session.answered(0, 77)
    session.next_request(wanted(p0=7, p1=1))
    session.failed()  # timed out: whether the broker saw it is unknown
    assert (session.session_id, session.epoch, session.held) == (0, 0, {})


def test_a_broker_that_keeps_no_session_gets_full_requests():
    session = FetchSession()
    session.next_request(wanted(p0=5))
    session.answered(0, 0)  # its session cache is full
    again = session.next_request(wanted(p0=5))
    assert (again.session_id, again.epoch, again.named) == (0, 0, 1)


def test_the_epoch_wraps_to_one_not_zero():
    session = FetchSession(session_id=9, epoch=LAST_EPOCH, held={("t", 0): (5, MB)})
    session.next_request(wanted(p0=5))
    session.answered(0, 9)
    assert session.epoch == 1


def test_the_request_keeps_every_wanted_partition_and_sends_the_delta():
    session = FetchSession(session_id=9, epoch=3, held={("t", 0): (5, MB), ("t", 1): (7, MB)})
    request = SessionFetchRequest(FetchRequest(500, 1, 50 * MB, 1, wanted(p0=5, p1=8)), session)
    wire = request.build(FetchRequest_v11)
    # The fetcher reads each answered partition's offset from `topics`: all of them stay.
    assert request.topics == wanted(p0=5, p1=8)
    assert (wire.session_id, wire.session_epoch) == (9, 3)
    assert wire.topics == [("t", [(1, -1, 8, -1, MB)])]
    assert (request.built, request.named) == (True, 1)


def test_a_broker_before_sessions_gets_aiokafkas_full_request():
    session = FetchSession(session_id=9, epoch=3, held={("t", 0): (5, MB)})
    request = SessionFetchRequest(FetchRequest(500, 1, 50 * MB, 1, wanted(p0=5, p1=8)), session)
    wire = request.build(FetchRequest_v6)
    assert [p for _, parts in wire.topics for p in parts] == [(0, 5, -1, MB), (1, 8, -1, MB)]
    assert session.pending is not None and session.pending.epoch == SESSIONLESS_EPOCH
    session.answered(0, 0)
    assert session.session_id == 0
