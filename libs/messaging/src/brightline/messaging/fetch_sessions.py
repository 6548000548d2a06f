"""Incremental fetch sessions (KIP-227) for aiokafka's consumer.

aiokafka sends every fetch as a full one (session id 0, epoch -1): each request names every
partition the consumer holds on that broker with its offset, and the broker answers for each of
them, empty or not. Both sides pay per partition named (tests/bench/fetch_cost.py: ~10 µs on the
client, ~3.6 µs on the broker, besides ~230 and ~140 µs a request), and a consumer that keeps up
fetches a few records at a time over dozens of partitions. In a session the broker remembers the
partitions and their offsets: a request names only the partitions whose offset moved (those it
consumed from) plus those it no longer wants ("forgotten"), and the answer holds only the
partitions with records or with news (a new high watermark, an error).

The protocol, as the broker holds it (KIP-227):

- session id 0, epoch 0: a full fetch that asks for a new session; the answer's session id
  names it (0: the broker keeps none, its cache is full, and the next request is full again);
- session id S, epoch n >= 1: an incremental fetch in S, n one more than the last answered;
- an answer with error FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH (or any other
  top-level error) carries no partitions: the next request opens a new session.

What the client does not know it does not assume: a request that failed, timed out or was never
sent leaves the broker's state unknown, so the next request is a full one that opens a new
session (the old one expires in the broker's cache). `FetchSession` is that bookkeeping, pure;
`SessionFetchRequest` is aiokafka's request with it; `use_fetch_sessions` plugs both into a
started consumer (aiokafka has no public hook for it; see kafka.pace_fetches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka.protocol.fetch import FetchRequest

# What aiokafka's FetchRequest carries per topic: (partition, fetch offset, max bytes).
Partitions = list[tuple[int, int, int]]
Topics = list[tuple[str, Partitions]]

SESSIONS_FROM_VERSION = 7  # FetchRequest v7 added session_id and session_epoch
NO_SESSION = 0
OPEN_EPOCH = 0  # with session id 0: a full fetch that opens a session
SESSIONLESS_EPOCH = -1  # with session id 0: a full fetch that opens none (aiokafka's)
LAST_EPOCH = 2**31 - 1  # Int32; the epoch after it is 1 (0 would open a new session)


@dataclass
class Delta:
    """One request's view of a session: what goes on the wire and what the broker holds after
    a good answer."""

    session_id: int
    epoch: int
    sent: Topics  # the partitions named (all of them in a full fetch)
    forgotten: list[tuple[str, list[int]]]
    wanted: dict[tuple[str, int], tuple[int, int]]  # every partition wanted: offset, max bytes

    @property
    def named(self) -> int:
        return sum(len(parts) for _, parts in self.sent) + sum(
            len(parts) for _, parts in self.forgotten
        )


@dataclass
class FetchSession:
    """A consumer's session with one broker, as this client last heard the broker hold it."""

    session_id: int = NO_SESSION
    epoch: int = OPEN_EPOCH
    held: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    pending: Delta | None = None  # the request in flight (one per broker at a time)
    opened: int = 0  # sessions the broker granted (a figure for tests and metrics)

    def next_request(self, topics: Topics) -> Delta:
        """The delta a request for `topics` (every partition wanted, as aiokafka lists them)
        sends: everything when no session is held, else the partitions whose offset or size
        changed and the ones no longer wanted."""
        wanted = {
            (topic, partition): (offset, max_bytes)
            for topic, partitions in topics
            for partition, offset, max_bytes in partitions
        }
        if self.session_id == NO_SESSION:
            delta = Delta(NO_SESSION, OPEN_EPOCH, topics, [], wanted)
        else:
            sent: Topics = []
            for topic, partitions in topics:
                changed = [
                    (p, offset, size)
                    for p, offset, size in partitions
                    if self.held.get((topic, p)) != (offset, size)
                ]
                if changed:
                    sent.append((topic, changed))
            gone: dict[str, list[int]] = {}
            for topic, partition in self.held:
                if (topic, partition) not in wanted:
                    gone.setdefault(topic, []).append(partition)
            delta = Delta(self.session_id, self.epoch, sent, sorted(gone.items()), wanted)
        self.pending = delta
        return delta

    def sessionless(self) -> None:
        """The request went out as a full fetch without a session (a broker before v7)."""
        if self.pending is not None:
            self.pending = Delta(NO_SESSION, SESSIONLESS_EPOCH, [], [], self.pending.wanted)

    def answered(self, error_code: int, session_id: int) -> None:
        """The broker answered the pending request: the session it now holds."""
        delta, self.pending = self.pending, None
        if delta is None or error_code or delta.epoch == SESSIONLESS_EPOCH:
            self.reset()
            return
        if delta.session_id == NO_SESSION:
            if session_id == NO_SESSION:  # the broker keeps no session: full fetches go on
                self.reset()
                return
            self.session_id, self.epoch = session_id, 1
            self.opened += 1
        else:
            self.epoch = 1 if self.epoch >= LAST_EPOCH else self.epoch + 1
        self.held = delta.wanted

    def failed(self) -> None:
        """No answer (an error on the way, a timeout, a cancel): the broker's state is unknown."""
        self.pending = None
        self.reset()

    def reset(self) -> None:
        self.session_id, self.epoch, self.held = NO_SESSION, OPEN_EPOCH, {}


class SessionFetchRequest(FetchRequest):  # type: ignore[misc]  # aiokafka is untyped here
    """aiokafka's fetch request, sent in a session: `topics` stays every partition wanted (the
    fetcher reads each answered partition's offset from it), the wire carries the delta."""

    def __init__(self, request: FetchRequest, session: FetchSession) -> None:
        super().__init__(
            request._max_wait_ms,
            request._min_bytes,
            request._max_bytes,
            request._isolation_level,
            request.topics,
            rack_id=request._rack_id,
        )
        self.session = session
        self.built = False  # whether it went out (a broker not ready never builds it)
        self.named = 0  # partitions named on the wire, known once built

    def build(self, request_struct_class: Any) -> Any:
        version = request_struct_class.API_VERSION
        delta = self.session.next_request(self.topics)
        self.built = True
        if version < SESSIONS_FROM_VERSION:
            self.session.sessionless()
            self.named = len(delta.wanted)
            return super().build(request_struct_class)
        self.named = delta.named
        leader_epoch = version >= 9
        topics = [
            (
                topic,
                [
                    (p, -1, offset, -1, size) if leader_epoch else (p, offset, -1, size)
                    for p, offset, size in partitions
                ],
            )
            for topic, partitions in delta.sent
        ]
        args: list[object] = [
            -1,  # replica_id: a consumer
            self._max_wait_ms,
            self._min_bytes,
            self._max_bytes,
            self._isolation_level,
            delta.session_id,
            delta.epoch,
            topics,
            delta.forgotten,
        ]
        if version >= 11:
            args.append(self._rack_id)
        return request_struct_class(*args)


class SessionClient:
    """The consumer's client as its fetcher sees it: every call passes through, and the answer
    to a session's fetch (or its failure) is told to the session."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def send(self, node_id: int, request: Any, **kwargs: Any) -> Any:
        if not isinstance(request, SessionFetchRequest):
            return await self._client.send(node_id, request, **kwargs)
        try:
            response = await self._client.send(node_id, request, **kwargs)
        except BaseException:
            request.session.failed()
            raise
        request.session.answered(
            getattr(response, "error_code", 0), getattr(response, "session_id", NO_SESSION)
        )
        return response


def use_fetch_sessions(fetcher: Any) -> None:
    """Let a started consumer's fetcher talk through `SessionClient`; whoever hands it the
    requests wraps them in SessionFetchRequest (kafka.pace_fetches)."""
    if not isinstance(fetcher._client, SessionClient):
        fetcher._client = SessionClient(fetcher._client)
