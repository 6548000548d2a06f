"""One message bus per service, in the manner of cosmicpython: every command a service is asked
to carry out maps to exactly one handler in one map (`HANDLERS` in the service's handlers.py).
Routes translate an HTTP request into a command and hand it to the bus; consumers translate a
Kafka event into a command (`TRANSLATORS` in consumers.py) and hand it to the bus. Nothing else
calls a handler.

Every handler has the same shape, `async def handler(command, uow, *, <dependencies>)`: the
unit of work comes from the entry point (it owns the transaction and commits), the other
dependencies come from the bus, by the names of the handler's keyword-only parameters (`now`,
`policy`, `settings`, …). Providers are called per message, so a `now` is read when the
command is handled and a policy pack adopted since is seen by the next command."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from brightline.contracts import Event
from brightline.messaging.consumer import Route, handles_only
from brightline.messaging.unit_of_work import UnitOfWork
from brightline.platform import clock

Handler = Callable[..., Awaitable[Any]]
Provider = Callable[[], object]
# A consumer's translation of one event: the command(s) it asks for, or None when the event
# asks nothing of this service (e.g. a case status other than "answered").
Translator = Callable[[Event], object | Iterable[object] | None]


class NoHandler(LookupError):
    """A command type missing from the service's map: a programming error, never retried away."""


class MessageBus:
    def __init__(self, handlers: Mapping[type, Handler], **providers: Provider) -> None:
        self.handlers = dict(handlers)
        # The one clock (brightline.platform.clock) unless a test builds a bus with its own `now`.
        self.providers = {"now": clock.now, **providers}
        self._wanted = {kind: _keyword_parameters(h) for kind, h in self.handlers.items()}
        for kind, names in self._wanted.items():
            missing = names - self.providers.keys()
            if missing:
                raise TypeError(f"{self.handlers[kind].__name__} needs {sorted(missing)}")

    async def handle(self, command: object, uow: UnitOfWork) -> Any:
        """Run the command's handler in the caller's unit of work; returns what it returns
        (routes answer with it). Commits nothing."""
        kind = type(command)
        try:
            handler = self.handlers[kind]
        except KeyError:
            raise NoHandler(f"no handler for {kind.__name__}") from None
        dependencies = {name: self.providers[name]() for name in self._wanted[kind]}
        return await handler(command, uow, **dependencies)

    def routes(
        self,
        translators: Mapping[str, Translator],
        *,
        opening: Callable[[Event], Event] | None = None,
    ) -> dict[str, Route]:
        """The consumer's routes: each event type's translator, its command(s) handed to this
        bus. A translator declared with `only_if` keeps its predicate (the consumer skips the
        events it declares it ignores before opening a transaction). `opening`: a service
        entitled to sealed personal data opens it here, at its edge (PersonalDataSeal.opening)."""
        return {
            event_type: self.route(translate, opening)
            for event_type, translate in translators.items()
        }

    def route(
        self, translate: Translator, opening: Callable[[Event], Event] | None = None
    ) -> Route:
        async def route(event: Event, uow: UnitOfWork) -> None:
            commands = translate(event if opening is None else opening(event))
            if commands is None:
                return
            if not isinstance(commands, list | tuple):
                commands = [commands]
            for command in commands:
                await self.handle(command, uow)

        accepts = getattr(translate, "accepts", None)
        return route if accepts is None else handles_only(accepts, route)


def payload(event: Event) -> object:
    """The translator of an event a service keeps as it came (its read model of another
    service's facts): the contract's payload is the message, mapped to a handler of its own."""
    return event.payload()


def only_if(accepts: Callable[[Event], bool], translate: Translator) -> Translator:
    """Declare which events of a type a translator acts on (see consumer.handles_only): pure
    and cheap, it sees the event, not the database."""

    def declared(event: Event) -> object | Iterable[object] | None:
        return translate(event)

    declared.accepts = accepts  # type: ignore[attr-defined]
    declared.__wrapped__ = translate  # type: ignore[attr-defined]
    return declared


def _keyword_parameters(handler: Handler) -> set[str]:
    parameters = inspect.signature(handler).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}
