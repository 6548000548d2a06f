"""A call as the telephony switch reports it: newCall (ringing), answer, hangup. Pure.

The switch's webhooks can arrive twice or out of order (a retry after a timeout, two HTTP
workers racing). Each (call id, event) counts once — the caller dedupes — and the record
merges what it learns whatever the order: times always come from the switch, the state only
moves forward (ringing < answered < ended), and the answer delay is computed as soon as both
the ring and the answer times are known.

A hangup can be lost for good (the switch gave up its retries while intake was away, or the
agent's softphone went with its browser). A call that is still ringing when the switch has said
nothing more of it for longer than any queue holds a caller is given up: ended as abandoned at
the time intake gave up, so no supervisor sees a caller "waiting" for hours and its answer limit
settles. So is an answered call with no hangup for longer than any call lasts, ended as normal:
without it the floor showed a call "talking" for ever. The switch's own hangup, if it still
comes, is applied over either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import get_args

from brightline.contracts.events.intake import CallEndCause

CTI_EVENTS = ("newCall", "answer", "hangup")
END_CAUSES: tuple[CallEndCause, ...] = get_args(CallEndCause)
STATE_OF = {"newCall": "ringing", "answer": "answered", "hangup": "ended"}
_RANK = {"ringing": 0, "answered": 1, "ended": 2}


@dataclass(frozen=True)
class QuietLimits:
    """How long the switch may say nothing more of a call before its hangup counts as lost:
    after its ring while it rings, after its answer while it is talked."""

    ringing: timedelta
    talking: timedelta


class TimesOutOfOrder(ValueError):
    """A switch time that contradicts one already known (an answer before the ring, ...)."""


@dataclass
class CallRecord:
    call_id: str
    first_seen_at: datetime
    state: str = "ringing"
    caller_number: str | None = None
    called_number: str | None = None
    queue: str | None = None
    agent_extension: str | None = None
    agent_id: str | None = None
    rang_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    end_cause: CallEndCause | None = None
    seen: set[str] = field(default_factory=set)

    @property
    def answer_delay_seconds(self) -> float | None:
        if self.rang_at is None or self.answered_at is None:
            return None
        return max(0.0, (self.answered_at - self.rang_at).total_seconds())

    def apply(
        self,
        event: str,
        at: datetime,
        *,
        caller_number: str | None = None,
        called_number: str | None = None,
        queue: str | None = None,
        agent_extension: str | None = None,
        agent_id: str | None = None,
        cause: str | None = None,
    ) -> list[str]:
        """Merge one switch event; return the call states to announce (as events).

        A late newCall for an answered call also re-announces `answered`, now with the delay
        (consumers key on the call id, so the later announcement supersedes the first).
        """
        if event not in CTI_EVENTS:
            raise ValueError(f"unknown CTI event {event!r}")
        if at.tzinfo is None:
            raise ValueError("switch timestamp must carry a timezone offset")
        self._check_order(event, at)
        self.seen.add(event)
        # Fill what we did not know yet; the first value the switch sent wins.
        self.caller_number = self.caller_number or caller_number
        self.called_number = self.called_number or called_number
        self.queue = self.queue or queue
        self.agent_extension = self.agent_extension or agent_extension
        self.agent_id = self.agent_id or agent_id
        announce = [STATE_OF[event]]
        if event == "newCall":
            self.rang_at = at
            if self.answered_at is not None:
                announce.append("answered")
        elif event == "answer":
            self.answered_at = at
        else:
            self.ended_at = at
            self.end_cause = _end_cause(
                cause or ("normal" if self.answered_at or "answer" in self.seen else "abandoned")
            )
        if _RANK[STATE_OF[event]] > _RANK[self.state]:
            self.state = STATE_OF[event]
        return announce

    def quiet_too_long(self, now: datetime, limits: QuietLimits) -> bool:
        """Ringing, and the switch's only word of it (its newCall) came over `limits.ringing`
        ago; or answered, with no hangup, over `limits.talking` after the answer."""
        if self.state == "ringing":
            return self.seen <= {"newCall"} and now - self.first_seen_at > limits.ringing
        return (
            self.state == "answered"
            and "hangup" not in self.seen
            and self.answered_at is not None
            and now - self.answered_at > limits.talking
        )

    def give_up(self, at: datetime) -> list[str]:
        """End a call the switch never reported ended (see the module) at `at`: abandoned if
        it was ringing, normal if answered. The hangup stays unseen, so the switch's own, if it
        comes late, still applies."""
        if self.state not in ("ringing", "answered"):
            raise ValueError(f"call {self.call_id} is {self.state}: it has ended already")
        cause: CallEndCause = "abandoned" if self.state == "ringing" else "normal"
        self.state, self.ended_at, self.end_cause = "ended", at, cause
        return ["ended"]

    def _check_order(self, event: str, at: datetime) -> None:
        """Ring <= answer <= hangup, whatever order the webhooks arrive in."""
        before = {"newCall": (), "answer": ("rang_at",), "hangup": ("rang_at", "answered_at")}
        after = {"newCall": ("answered_at", "ended_at"), "answer": ("ended_at",), "hangup": ()}
        for name in before[event]:
            known = getattr(self, name)
            if known is not None and at < known:
                raise TimesOutOfOrder(
                    f"{event} at {at.isoformat()} is before the call's {name} {known.isoformat()}"
                )
        for name in after[event]:
            known = getattr(self, name)
            if known is not None and at > known:
                raise TimesOutOfOrder(
                    f"{event} at {at.isoformat()} is after the call's {name} {known.isoformat()}"
                )


def _end_cause(cause: str) -> CallEndCause:
    for known in END_CAUSES:
        if cause == known:
            return known
    raise ValueError(f"unknown hangup cause {cause!r}")
