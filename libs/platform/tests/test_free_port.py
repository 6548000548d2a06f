"""Ports for servers a test or `make run` starts: never from the kernel's ephemeral range, where
an outgoing connection's source port may take one before its server listens (a CI run's service
process failed with "address already in use" on 46043), and never the same one twice."""

import contextlib
import random
import socket

from brightline.platform.local import paths


def test_ports_are_below_the_ephemeral_range_bindable_and_never_handed_out_twice():
    low, _ = paths._ephemeral_range()
    ports = [paths.free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(1024 <= port < low for port in ports), [p for p in ports if p >= low]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[-1]))  # free when handed out


def test_a_share_of_the_range_keeps_its_ports_apart_from_the_other_shares(monkeypatch):
    """Two pytest-xdist workers choosing at once: each takes ports only from its own part."""
    low, _ = paths._ephemeral_range()
    monkeypatch.setenv("BRIGHTLINE_PORT_SHARE", "1/2")
    ports = [paths.free_port(span=2) for _ in range(100)]
    middle = 10000 + (low - 10000) // 2
    assert all(middle <= port and port + 1 < low for port in ports), sorted(ports)[:3]
    monkeypatch.setenv("BRIGHTLINE_PORT_SHARE", "0/2")
    ports = [paths.free_port(span=2) for _ in range(100)]
    assert all(10000 <= port and port + 1 < middle for port in ports), sorted(ports)[-3:]


def test_a_port_in_use_is_not_handed_out(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(paths, "_ephemeral_range", lambda: (port + 1, 60999))
        monkeypatch.setattr(random, "randint", lambda first, last: port)  # only the busy one
        chosen = paths.free_port()
    assert chosen != port


def a_free_span(length: int) -> int:
    """The first of `length` ports below the ephemeral range, free now and not handed out: the
    test's own ports, where no outgoing connection of a busy box takes one meanwhile (ports
    next to one the kernel chose for port 0 once were, and the test failed)."""
    low, _ = paths._ephemeral_range()
    for _ in range(100):
        # From 12,000 up: a test that puts the ephemeral range just above the span keeps it
        # where free_port still looks below it (under 12,000 it takes the kernel's choice, and
        # a span drawn under 11,985 made this test fail about one run in eleven).
        start = random.randint(12000, low - length)
        ports = range(start, start + length)
        if paths._HANDED_OUT.intersection(ports):
            continue
        try:
            with contextlib.ExitStack() as bound:
                for each in ports:
                    bound.enter_context(socket.socket()).bind(("127.0.0.1", each))
        except OSError:
            continue
        return start
    raise AssertionError("no free span of ports below the ephemeral range")


def test_a_span_of_ports_is_free_whole_and_none_of_it_handed_out_again(monkeypatch):
    first = a_free_span(6)
    with socket.socket() as taken:
        busy = first + 5
        taken.bind(("127.0.0.1", busy))
        taken.listen()
        monkeypatch.setattr(paths, "_ephemeral_range", lambda: (busy + 10, 60999))
        # First the port just below the busy one (its neighbour is taken), then a free span.
        tries = iter([busy - 1, first])
        monkeypatch.setattr(random, "randint", lambda low, high: next(tries))
        chosen = paths.free_port(span=2)
    assert chosen == first
    assert {first, first + 1} <= paths._HANDED_OUT
