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
from brightline.messaging import MessageBus, payload

SERVICES = ["callback", "casework", "dispatch", "intake", "records", "sla_monitor"]


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
        for f in dataclasses.fields(c)
        for hint in [f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")]
    }
    return {c for c in defined if not any(c.__name__ in hint for hint in carried)}


def kept_as_they_came(service: str) -> set[type]:
    """Payloads of the events a service's consumer hands to its bus as they came (`payload`)."""
    consumers = importlib.import_module(f"brightline.{service}.consumers")
    return {
        EVENT_SPECS[event_type].payload
        for event_type, translate in consumers.TRANSLATORS.items()
        if getattr(translate, "__wrapped__", translate) is payload
    }


def bus_of(service: str) -> MessageBus:
    """The bus the service's app hands its routes and its consumer (built, not started)."""
    return importlib.import_module(f"brightline.{service}.main").create_app().state.bus


def entry_modules(service: str) -> dict[str, ast.Module]:
    """Every module of the service but its handlers and its domain."""
    root = package_dir(service)
    return {
        str(path.relative_to(root)): ast.parse(path.read_text())
        for path in root.rglob("*.py")
        if path.name != "handlers.py" and "domain" not in path.parts
    }


def constructed(tree: ast.Module) -> set[str]:
    """Names of classes this module builds, as `commands.X(...)` or `X(...)`."""
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    return {
        f.attr
        for f in calls
        if isinstance(f, ast.Attribute)
        and isinstance(f.value, ast.Name)
        and f.value.id == "commands"
    } | {f.id for f in calls if isinstance(f, ast.Name)}


@pytest.mark.parametrize("service", SERVICES)
def test_every_command_has_exactly_one_handler(service):
    bus = bus_of(service)  # also checks every handler's dependencies are provided
    assert set(bus.handlers) == command_types(service) | kept_as_they_came(service)
    for kind, handler in bus.handlers.items():
        first, second, *rest = inspect.signature(handler).parameters.values()
        role = "event" if kind in kept_as_they_came(service) else "command"
        assert (first.name, second.name) == (role, "uow"), handler.__name__
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest), handler.__name__


@pytest.mark.parametrize("service", SERVICES)
def test_every_handler_is_reached_from_a_route_or_a_consumer(service):
    built = set().union(*(constructed(tree) for tree in entry_modules(service).values()))
    commands = set(bus_of(service).handlers) - kept_as_they_came(service)
    assert {c.__name__ for c in commands} <= built


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_bus_calls_a_handler(service):
    mapped = {handler.__name__ for handler in bus_of(service).handlers.values()}
    for name, tree in entry_modules(service).items():
        calls = [
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "handlers"
            and node.func.attr in mapped
        ]
        imported = [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".handlers")
            for alias in node.names
            if alias.name in mapped
        ]
        assert calls + imported == [], f"{service}/{name} calls {calls + imported} past the bus"


@pytest.mark.parametrize("service", SERVICES)
def test_every_consumed_event_type_has_one_translator_on_a_subscribed_topic(service):
    consumers = importlib.import_module(f"brightline.{service}.consumers")
    subscribed = {t.name for t in consumers.TOPICS}
    for event_type in consumers.TRANSLATORS:
        assert event_type in EVENT_SPECS, event_type
        assert EVENT_SPECS[event_type].topic.name in subscribed, event_type
