"""The contact-centre floor as the console sees it: who is ready, which calls wait in which
queue, and which agent a ringing call is offered to. Pure (stdlib only); the live hub feeds it
the switch's call events from Kafka and the agents' own clicks.

Agent states: offline → ready ⇄ not_ready; ready → ringing (a call is offered) → talking →
wrap_up → ready / not_ready. A call is offered to the ready agent idle the longest; an agent who
goes not ready while a call rings puts it back in the queue for the next one, and so does an
offer left ringing too long (ring no answer): that seat goes not ready, so that the next call
does not ring at an empty chair either. A seat whose desk went away without signing out (no
event stream, no look at the desk for a while) goes offline (desk lost)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

AGENT_STATES = ("offline", "ready", "not_ready", "ringing", "talking", "wrap_up")
SETTABLE = {"ready", "not_ready", "offline"}
# Why a seat the floor itself made not ready is: it let an offered call ring unanswered.
RING_NO_ANSWER = "ring_no_answer"
# Why a seat the floor itself took offline is: its desk went away without signing out (the
# browser closed, the machine asleep, the network gone), so nobody is there to take a call.
DESK_LOST = "desk_lost"


class IllegalState(ValueError):
    pass


@dataclass
class Seat:
    agent_id: str
    name: str
    staff_no: str
    state: str = "offline"
    since: datetime | None = None
    call_id: str | None = None
    answered_today: int = 0  # calls answered on `answered_on`, the centre's business day
    reason: str | None = None  # why not ready (a not-ready reason code), else None
    answered_on: date | None = None


@dataclass
class LiveCall:
    call_id: str
    queue: str
    rang_at: datetime
    caller_number: str | None = None
    state: str = "ringing"  # ringing | talking
    offered_to: str | None = None
    agent_id: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class Notice:
    """Something to tell browsers: `target` None means every supervisor view; else one agent."""

    kind: str
    data: dict[str, Any]
    target: str | None = None


@dataclass
class Floor:
    seats: dict[str, Seat] = field(default_factory=dict)
    calls: dict[str, LiveCall] = field(default_factory=dict)
    # Where the centre's day begins and ends: an agent's "answered today" starts again at its
    # midnight (the business timezone; the floor kept in the database outlives the day).
    zone: tzinfo = UTC

    # ---------------------------------------------------------------- agents
    def sign_in(self, agent_id: str, name: str, staff_no: str, now: datetime) -> Seat:
        seat = self.seats.get(agent_id)
        if seat is None:
            seat = self.seats[agent_id] = Seat(agent_id, name, staff_no, "not_ready", now)
            return seat
        seat.name, seat.staff_no = name, staff_no  # as the identity provider says them now
        if seat.state == "offline":
            seat.state, seat.since, seat.reason = "not_ready", now, None
        return seat

    def set_state(
        self, agent_id: str, state: str, now: datetime, reason: str | None = None
    ) -> list[Notice]:
        if state not in SETTABLE:
            raise IllegalState(f"an agent sets only {sorted(SETTABLE)}, not {state!r}")
        seat = self.seats.get(agent_id)
        if seat is None:
            raise IllegalState(f"agent {agent_id} is not signed in")
        if seat.state == "talking":
            raise IllegalState("finish the call (wrap-up) before changing state")
        notices = self._withdraw_offer(seat)  # declined: back at the head of its queue
        seat.state, seat.since, seat.call_id = state, now, None
        seat.reason = reason if state == "not_ready" else None
        notices.append(self._agent_notice(seat, now))
        # Ready: this agent may get the oldest waiting call; otherwise a declined call goes on.
        return notices + self._offer_waiting(now)

    def finish_wrap_up(
        self, agent_id: str, ready: bool, now: datetime, reason: str | None = None
    ) -> list[Notice]:
        seat = self.seats.get(agent_id)
        if seat is None:
            raise IllegalState(f"agent {agent_id} is not signed in")
        if seat.state not in ("wrap_up", "talking"):
            raise IllegalState(f"no call to wrap up (state {seat.state})")
        seat.state, seat.since, seat.call_id = ("ready" if ready else "not_ready"), now, None
        seat.reason = None if ready else reason
        return [self._agent_notice(seat, now), *self._offer_waiting(now)]

    def unanswered(self, now: datetime, ring_limit: timedelta) -> list[Seat]:
        """Seats where an offered call has rung `ring_limit` or longer."""
        return [
            s
            for s in self.seats.values()
            if s.state == "ringing" and s.since is not None and now - s.since >= ring_limit
        ]

    def ring_no_answer(self, now: datetime, ring_limit: timedelta) -> list[Notice]:
        """Offers left ringing `ring_limit` go back to their queue, to the next ready agent; the
        seats they rang at go not ready (ring_no_answer) until their agent says ready again.
        Left alone, the caller waited on an empty chair well past the answer limit."""
        notices: list[Notice] = []
        for seat in self.unanswered(now, ring_limit):
            call = self.calls.get(seat.call_id) if seat.call_id else None
            if call is not None and call.offered_to == seat.agent_id:
                call.offered_to = None
                notices.append(
                    Notice(
                        "offer_withdrawn",
                        {"call_id": call.call_id, "cause": RING_NO_ANSWER},
                        seat.agent_id,
                    )
                )
            seat.state, seat.since, seat.call_id, seat.reason = (
                "not_ready",
                now,
                None,
                RING_NO_ANSWER,
            )
            notices.append(self._agent_notice(seat, now))
        return [*notices, *self._offer_waiting(now)] if notices else []

    def absent(self, now: datetime, seen: Mapping[str, datetime], limit: timedelta) -> list[Seat]:
        """Seats on the floor whose desk has not been seen (`seen`, by agent: an event stream
        open, a look at the desk, an act of its agent) for `limit`; a seat never seen counts
        from its last change. What the floor itself did to a seat (a call rang out at it) is no
        sign of anyone there. A seat with a call in hand stays: the call goes on at the switch
        without the page."""
        gone = []
        for seat in self.seats.values():
            if seat.state in ("offline", "talking"):
                continue
            last = seen.get(seat.agent_id) or seat.since
            if last is None or now - last >= limit:
                gone.append(seat)
        return gone

    def leave_absent(
        self, now: datetime, seen: Mapping[str, datetime], limit: timedelta
    ) -> list[Notice]:
        """Absent seats go offline (desk_lost), as if their agents had signed out: left ready or
        not ready, the floor went on counting (and, once ready, offering calls to) agents who had
        gone. A call ringing at one goes on to the next ready agent; the agent comes back on the
        floor by saying ready again."""
        notices: list[Notice] = []
        for seat in self.absent(now, seen, limit):
            notices += self._withdraw_offer(seat)
            seat.state, seat.since, seat.call_id, seat.reason = "offline", now, None, DESK_LOST
            notices.append(self._agent_notice(seat, now))
        return [*notices, *self._offer_waiting(now)] if notices else []

    # ---------------------------------------------------------------- calls (from the switch)
    def call_ringing(
        self, call_id: str, queue: str, rang_at: datetime, caller_number: str | None, now: datetime
    ) -> list[Notice]:
        if call_id in self.calls:
            return []
        self.calls[call_id] = LiveCall(call_id, queue, rang_at, caller_number)
        return [self._queue_notice(), *self._offer_waiting(now)]

    def call_answered(
        self, call_id: str, agent_id: str | None, answered_at: datetime, now: datetime
    ) -> list[Notice]:
        call = self.calls.get(call_id)
        notices: list[Notice] = []
        if call is None:
            return notices
        if call.offered_to and call.offered_to != agent_id:
            # Someone else (another softphone, the switch's own agent) took it: free the offered seat.
            other = self.seats.get(call.offered_to)
            if other is not None and other.call_id == call_id:
                other.state, other.since, other.call_id = "ready", now, None
                notices += [
                    Notice("offer_withdrawn", {"call_id": call_id}, other.agent_id),
                    self._agent_notice(other, now),
                ]
        call.state, call.agent_id, call.answered_at, call.offered_to = (
            "talking",
            agent_id,
            answered_at,
            None,
        )
        seat = self.seats.get(agent_id) if agent_id else None
        if seat is not None:
            if seat.state != "talking":
                today = self._day(now)
                if seat.answered_on != today:
                    seat.answered_on, seat.answered_today = today, 0
                seat.answered_today += 1
            seat.state, seat.since, seat.call_id = "talking", now, call_id
            notices.append(self._agent_notice(seat, now))
        return [*notices, self._queue_notice(), *self._offer_waiting(now)]

    def call_ended(self, call_id: str, cause: str, now: datetime) -> list[Notice]:
        call = self.calls.pop(call_id, None)
        if call is None:
            return []
        notices: list[Notice] = []
        for seat in self.seats.values():
            if seat.call_id != call_id:
                continue
            if seat.state == "ringing":  # the caller hung up while it rang at this seat
                seat.state, seat.since, seat.call_id = "ready", now, None
                notices.append(
                    Notice("offer_withdrawn", {"call_id": call_id, "cause": cause}, seat.agent_id)
                )
            elif seat.state == "talking":
                seat.state, seat.since = "wrap_up", now
                notices.append(
                    Notice("call_ended", {"call_id": call_id, "cause": cause}, seat.agent_id)
                )
            notices.append(self._agent_notice(seat, now))
        return [*notices, self._queue_notice(), *self._offer_waiting(now)]

    # ---------------------------------------------------------------- views
    def waiting(self) -> list[LiveCall]:
        return sorted(
            (c for c in self.calls.values() if c.state == "ringing"), key=lambda c: c.rang_at
        )

    def queues(self, now: datetime) -> list[dict[str, Any]]:
        by_queue: dict[str, dict[str, Any]] = {}
        for call in self.calls.values():
            row = by_queue.setdefault(
                call.queue,
                {"queue": call.queue, "waiting": 0, "talking": 0, "longest_wait_seconds": 0.0},
            )
            if call.state == "ringing":
                row["waiting"] += 1
                row["longest_wait_seconds"] = max(
                    row["longest_wait_seconds"], (now - call.rang_at).total_seconds()
                )
            else:
                row["talking"] += 1
        return sorted(by_queue.values(), key=lambda r: r["queue"])

    def snapshot(self, now: datetime) -> dict[str, Any]:
        return {
            "queues": self.queues(now),
            "agents": [
                self.seat_view(s, now)
                for s in sorted(self.seats.values(), key=lambda s: s.agent_id)
            ],
            "waiting": [
                {
                    "call_id": c.call_id,
                    "queue": c.queue,
                    "rang_at": c.rang_at.isoformat(),
                    "offered_to": c.offered_to,
                }
                for c in self.waiting()
            ],
        }

    def seat_view(self, seat: Seat, now: datetime) -> dict[str, Any]:
        view = asdict(seat)
        view["since"] = seat.since.isoformat() if seat.since else None
        del view["answered_on"]
        if seat.answered_on != self._day(now):  # nothing answered yet on this day
            view["answered_today"] = 0
        return view

    def _day(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    # ---------------------------------------------------------------- internals
    def _withdraw_offer(self, seat: Seat) -> list[Notice]:
        """The call ringing at `seat` back to its queue, unoffered (the seat's state is the
        caller's to set)."""
        if seat.state != "ringing" or not seat.call_id:
            return []
        call = self.calls.get(seat.call_id)
        seat.call_id = None
        if call is None or call.state != "ringing":
            return []
        call.offered_to = None
        return [Notice("offer_withdrawn", {"call_id": call.call_id}, seat.agent_id)]

    def _agent_notice(self, seat: Seat, now: datetime) -> Notice:
        return Notice("agent", self.seat_view(seat, now))

    def _queue_notice(self) -> Notice:
        return Notice("queues", {})

    def _offer_waiting(self, now: datetime) -> list[Notice]:
        notices: list[Notice] = []
        for call in self.waiting():
            if call.offered_to:
                continue
            ready = [s for s in self.seats.values() if s.state == "ready"]
            if not ready:
                break
            seat = min(ready, key=lambda s: (s.since or now, s.agent_id))  # idle the longest
            seat.state, seat.since, seat.call_id = "ringing", now, call.call_id
            call.offered_to = seat.agent_id
            notices.append(
                Notice(
                    "offer",
                    {
                        "call_id": call.call_id,
                        "queue": call.queue,
                        "rang_at": call.rang_at.isoformat(),
                        "caller_number": call.caller_number,
                    },
                    seat.agent_id,
                )
            )
            notices.append(self._agent_notice(seat, now))
        return notices
