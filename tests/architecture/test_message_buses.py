"""Every service's message bus is its one, used map (docs/architecture.md): each command type
has exactly one handler, every handler is reached from a route or a consumer through the bus,
and nothing else calls a handler."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest

import brightline.contracts.events  # noqa: F401 - registers every payload in EVENT_SPECS
from brightline.contracts import EVENT_SPECS
from brightline.messaging import MessageBus

SERVICES = ["callback", "records"]


def package_dir(service: str) -> Path:
    return Path(importlib.import_module(f"brightline.{service}").__file__).parent


def command_types(service: str) -> set[type]:
    """The dataclasses of domain/commands.py, less the values they carry (e.g. a contact)."""
    module = importlib.import_module(f"brightline.{service}.domain.commands")
    defined = {
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if c.__module__ == module.__name__ and dataclasses.is_dataclass(c)
    }
    carried = {
        hint
        for c in defined
        for hint in (f.type for f in dataclasses.fields(c))
        if isinstance(hint, str)
    }
    return {c for c in defined if not any(c.__name__ in hint for hint in carried)}


def bus_of(service: str) -> MessageBus:
    handlers = importlib.import_module(f"brightline.{service}.handlers")
    parameters = inspect.signature(handlers.message_bus).parameters
    if not parameters:
        return handlers.message_bus()
    settings_type = next(iter(parameters.values())).annotation
    settings_module = importlib.import_module(f"brightline.{service}.settings")
    return handlers.message_bus(getattr(settings_module, settings_type)())


def entry_modules(service: str) -> dict[str, ast.Module]:
    """Every module of the service but its handlers and its domain."""
    root = package_dir(service)
    return {
        str(path.relative_to(root)): ast.parse(path.read_text())
        for path in root.rglob("*.py")
        if path.name != "handlers.py" and "domain" not in path.parts
    }


def constructed(tree: ast.Module) -> set[str]:
    """Names of classes this module builds as `commands.X(...)`."""
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "commands"
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_command_has_exactly_one_handler(service):
    bus = bus_of(service)  # also checks every handler's dependencies are provided
    assert set(bus.handlers) == command_types(service)
    for handler in bus.handlers.values():
        first, second, *rest = inspect.signature(handler).parameters.values()
        assert (first.name, second.name) == ("command", "uow"), handler.__name__
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest), handler.__name__


@pytest.mark.parametrize("service", SERVICES)
def test_every_handler_is_reached_from_a_route_or_a_consumer(service):
    built = set().union(*(constructed(tree) for tree in entry_modules(service).values()))
    assert {c.__name__ for c in bus_of(service).handlers} <= built


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_bus_calls_a_handler(service):
    for name, tree in entry_modules(service).items():
        calls = [
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "handlers"
            and node.func.attr != "message_bus"
        ]
        assert calls == [], f"{service}/{name} calls handlers.{calls[0]} past the bus"


@pytest.mark.parametrize("service", SERVICES)
def test_every_consumed_event_type_has_one_translator_on_a_subscribed_topic(service):
    consumers = importlib.import_module(f"brightline.{service}.consumers")
    subscribed = {t.name for t in consumers.TOPICS}
    for event_type in consumers.TRANSLATORS:
        assert event_type in EVENT_SPECS, event_type
        assert EVENT_SPECS[event_type].topic.name in subscribed, event_type
