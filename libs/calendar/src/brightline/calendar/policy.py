"""Policy packs: the hotline's time limits as versioned data, read by every service.

One source of truth: the SLA monitor, casework (transfer limit) and callback (window, attempts,
spacing) all read the pack in force through this module (`adopted_book()`), never a copy in their
own settings. Which packs a centre has adopted is one shared setting:
$BRIGHTLINE_POLICY_PACKS (shipped pack names, JSON list or comma-separated; default "seed") and
$BRIGHTLINE_POLICY_PACK_FILES (a centre's own pack files). A file is read again when it changes,
so adopting a new edition (a new version with a new effective_from) reaches every service for the
tickets opened from then on, without a restart.

Public rule texts disagree (the seed says a complaint is answered in 5 days,
State Grid's 2011 edition says 7 working days, Jiangsu 2021 says 4) and
utilities change them, so limits live in YAML files shipped with the package
(`policy_packs/*.yaml`), never in code. A pack may `extends:` another pack:
every limit, target or parameter it does not list is inherited. An entry it
does list replaces the parent's entry whole (no field-by-field merge), so a
pack never ends up with, say, the parent's unit under its own amount.

`PolicyBook` picks the pack in force when a ticket was opened, so publishing
a new pack changes the limits of new tickets only; tickets already open keep
the rules they were promised.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .business_time import business_date, require_aware
from .business_time import business_tz as _business_tz
from .working_days import add_working_days_provisional

PACKAGE = "brightline.calendar"
PACKS_DIR = "policy_packs"
DEFAULT_PACK = "seed"
DEFAULT_WARN_AT = 0.8


class PolicyError(ValueError):
    """A policy pack is malformed; the message names the pack and the entry."""


class NoPolicyInForce(LookupError):
    """No pack in a PolicyBook was in force at the given moment."""


class Unit(StrEnum):
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"

    @property
    def is_fixed_length(self) -> bool:
        """True when the span is a fixed number of seconds, whatever the date."""
        return self in (Unit.SECONDS, Unit.MINUTES, Unit.HOURS)


_FIXED_SECONDS = {Unit.SECONDS: 1, Unit.MINUTES: 60, Unit.HOURS: 3600}

# "breach+30m": a further escalation 30 minutes after the breach. 'd' means
# 24 hours of wall-clock time (it is a nudge to a manager, not a service limit).
_ESCALATION_AT = re.compile(r"^(?P<trigger>warning|breach)(?:\+(?P<n>\d+)(?P<u>[smhd]))?$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class EscalationLevel:
    """Who is told, and when: at the warning, at the breach, or some time after it."""

    at: str  # as written: "warning", "breach" or "breach+<n><s|m|h|d>"
    notify: tuple[str, ...]
    trigger: str = field(init=False)  # "warning" | "breach"
    delay: timedelta = field(init=False)  # after the trigger; zero for plain levels

    def __post_init__(self) -> None:
        match = _ESCALATION_AT.match(self.at)
        if match is None:
            raise PolicyError(
                f"escalation at={self.at!r}: expected warning, breach or breach+<n><s|m|h|d>"
            )
        if match["trigger"] == "warning" and match["n"]:
            raise PolicyError(f"escalation at={self.at!r}: only breach takes a delay")
        if not self.notify:
            raise PolicyError(f"escalation at={self.at!r}: notify lists no role")
        delay = timedelta()
        if match["n"]:
            delay = timedelta(**{_DURATION_UNITS[match["u"]]: int(match["n"])})
        object.__setattr__(self, "trigger", match["trigger"])
        object.__setattr__(self, "delay", delay)


@dataclass(frozen=True)
class Limit:
    """One time limit, e.g. `complaint.reply` = 5 calendar days."""

    key: str
    amount: int
    unit: Unit
    source: str
    warn_at: float = DEFAULT_WARN_AT  # fraction of the span at which to warn
    escalation: tuple[EscalationLevel, ...] = ()
    pausable: bool = False  # may the clock stop (e.g. waiting for the customer)?
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.unit, Unit):
            try:
                object.__setattr__(self, "unit", Unit(self.unit))
            except ValueError:
                raise PolicyError(
                    f"limit {self.key}: unknown unit {self.unit!r}; "
                    f"use one of {', '.join(u.value for u in Unit)}"
                ) from None
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise PolicyError(
                f"limit {self.key}: amount must be a positive integer, got {self.amount!r}"
            )
        if (
            isinstance(self.warn_at, bool)
            or not isinstance(self.warn_at, (int, float))
            or not (0 < self.warn_at < 1)
        ):
            raise PolicyError(
                f"limit {self.key}: warn_at must be a fraction strictly between 0 and 1, "
                f"got {self.warn_at!r}"
            )
        if not self.source:
            raise PolicyError(f"limit {self.key}: source is required (cite the rule text)")

    def fixed_span(self) -> timedelta | None:
        """The span for seconds/minutes/hours limits; None for day-based ones,
        whose length depends on the date (and the holiday calendar)."""
        if self.unit.is_fixed_length:
            return timedelta(seconds=self.amount * _FIXED_SECONDS[self.unit])
        return None

    def levels(self, trigger: str) -> tuple[EscalationLevel, ...]:
        return tuple(level for level in self.escalation if level.trigger == trigger)


@dataclass(frozen=True)
class Target:
    """A KPI floor, e.g. callback rate >= 0.90."""

    key: str
    minimum: float
    source: str


@dataclass(frozen=True)
class Parameter:
    """A number the services need that is not a deadline (attempts, spacing, notice)."""

    key: str
    value: int | float
    source: str
    unit: Unit | None = None

    def as_timedelta(self) -> timedelta:
        if self.unit is None or not (self.unit.is_fixed_length or self.unit is Unit.CALENDAR_DAYS):
            raise PolicyError(f"parameter {self.key} is not a fixed duration (unit {self.unit})")
        if self.unit is Unit.CALENDAR_DAYS:
            return timedelta(days=self.value)
        return timedelta(seconds=self.value * _FIXED_SECONDS[self.unit])


@dataclass(frozen=True)
class PolicyPack:
    name: str
    version: str
    effective_from: date
    limits: Mapping[str, Limit]
    targets: Mapping[str, Target] = field(default_factory=dict)
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    extends: str | None = None
    description: str = ""
    sources: tuple[str, ...] = ()  # the documents the pack's limits come from
    # False: effective_from is a placeholder, the issuing document's date is not known (said so)
    effective_from_known: bool = True

    @property
    def ref(self) -> str:
        """`name@version`, recorded on each deadline so audits know which rules applied."""
        return f"{self.name}@{self.version}"

    def limit(self, key: str) -> Limit:
        try:
            return self.limits[key]
        except KeyError:
            raise KeyError(f"policy pack {self.ref} has no limit {key!r}") from None

    def target(self, key: str) -> Target:
        try:
            return self.targets[key]
        except KeyError:
            raise KeyError(f"policy pack {self.ref} has no target {key!r}") from None

    def parameter(self, key: str) -> Parameter:
        try:
            return self.parameters[key]
        except KeyError:
            raise KeyError(f"policy pack {self.ref} has no parameter {key!r}") from None


# ---------------------------------------------------------------- parsing


def _require(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw or raw[key] is None:
        raise PolicyError(f"{where}: missing required key {key!r}")
    return raw[key]


def _as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _parse_limit(key: str, raw: Any, pack_where: str) -> Limit:
    where = f"{pack_where} limit {key}"
    raw = _as_mapping(raw, where)
    unknown = set(raw) - {
        "amount",
        "unit",
        "source",
        "warn_at",
        "escalation",
        "pausable",
        "description",
    }
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {sorted(unknown)}")
    levels = []
    for i, level in enumerate(raw.get("escalation") or ()):
        level = _as_mapping(level, f"{where} escalation[{i}]")
        notify = _require(level, "notify", f"{where} escalation[{i}]")
        if isinstance(notify, str):
            notify = [notify]
        try:
            levels.append(
                EscalationLevel(
                    str(_require(level, "at", f"{where} escalation[{i}]")), tuple(notify)
                )
            )
        except PolicyError as exc:
            raise PolicyError(f"{where}: {exc}") from None
    try:
        return Limit(
            key=key,
            amount=_require(raw, "amount", where),
            unit=_require(raw, "unit", where),
            source=str(_require(raw, "source", where)),
            warn_at=raw.get("warn_at", DEFAULT_WARN_AT),
            escalation=tuple(levels),
            pausable=bool(raw.get("pausable", False)),
            description=str(raw.get("description", "")),
        )
    except PolicyError as exc:
        raise PolicyError(f"{pack_where}: {exc}") from None  # exc already names the limit


def _parse_target(key: str, raw: Any, where: str) -> Target:
    where = f"{where} target {key}"
    raw = _as_mapping(raw, where)
    minimum = _require(raw, "minimum", where)
    if not isinstance(minimum, (int, float)) or not 0 < minimum <= 1:
        raise PolicyError(f"{where}: minimum must be a fraction in (0, 1], got {minimum!r}")
    return Target(key=key, minimum=float(minimum), source=str(_require(raw, "source", where)))


def _parse_parameter(key: str, raw: Any, where: str) -> Parameter:
    where = f"{where} parameter {key}"
    raw = _as_mapping(raw, where)
    value = _require(raw, "value", where)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PolicyError(f"{where}: value must be a number, got {value!r}")
    unit = raw.get("unit")
    if unit is not None:
        try:
            unit = Unit(unit)
        except ValueError:
            raise PolicyError(f"{where}: unknown unit {unit!r}") from None
    return Parameter(key=key, value=value, source=str(_require(raw, "source", where)), unit=unit)


def parse_pack(raw: Any, parent: PolicyPack | None = None, origin: str = "<pack>") -> PolicyPack:
    """Build a PolicyPack from parsed YAML; `parent` supplies inherited entries."""
    raw = _as_mapping(raw, origin)
    name = str(_require(raw, "name", origin))
    where = f"policy pack {name!r} ({origin})"
    version = str(_require(raw, "version", where))
    effective_from = _require(raw, "effective_from", where)
    if isinstance(effective_from, datetime):
        effective_from = effective_from.date()
    elif isinstance(effective_from, str):
        try:
            effective_from = date.fromisoformat(effective_from)
        except ValueError:
            raise PolicyError(
                f"{where}: effective_from {effective_from!r} is not YYYY-MM-DD"
            ) from None
    if not isinstance(effective_from, date):
        raise PolicyError(f"{where}: effective_from must be a date")
    extends = raw.get("extends")
    if extends is not None and (parent is None or parent.name != extends):
        raise PolicyError(f"{where}: extends {extends!r} but that parent was not supplied")

    limits = dict(parent.limits) if parent else {}
    for key, entry in _as_mapping(raw.get("limits"), f"{where} limits").items():
        limits[key] = _parse_limit(key, entry, where)
    if not limits:
        raise PolicyError(f"{where}: defines no limits")
    targets = dict(parent.targets) if parent else {}
    for key, entry in _as_mapping(raw.get("targets"), f"{where} targets").items():
        targets[key] = _parse_target(key, entry, where)
    parameters = dict(parent.parameters) if parent else {}
    for key, entry in _as_mapping(raw.get("parameters"), f"{where} parameters").items():
        parameters[key] = _parse_parameter(key, entry, where)

    pack = PolicyPack(
        name=name,
        version=version,
        effective_from=effective_from,
        limits=MappingProxyType(limits),
        targets=MappingProxyType(targets),
        parameters=MappingProxyType(parameters),
        extends=extends,
        description=str(raw.get("description", "")),
        sources=tuple(str(x) for x in raw.get("sources") or ()),
        effective_from_known=bool(raw.get("effective_from_known", True)),
    )
    check_transfer_before_reply(pack, where)
    return pack


# The longest a working-day span of n days can take in real time: n days plus the longest run of
# rest days China has (the 8-9 day Spring Festival / National Day holidays, with weekends).
_LONGEST_REST_RUN = timedelta(days=10)


def _shortest(limit: Limit) -> timedelta:
    span = limit.fixed_span()
    return span if span is not None else timedelta(days=limit.amount)


def _longest(limit: Limit) -> timedelta:
    span = limit.fixed_span()
    if span is not None:
        return span
    if limit.unit is Unit.CALENDAR_DAYS:
        return timedelta(days=limit.amount)
    return timedelta(days=limit.amount) + _LONGEST_REST_RUN


def transfer_key(pack: PolicyPack, case_type: str) -> str:
    """The transfer limit of a case type: `<type>.transfer` where the pack has one (complaints and
    reports go on 立即, counted in hours), else the first-ask `case.transfer` (1 working day)."""
    key = f"{case_type}.transfer"
    return key if key in pack.limits else "case.transfer"


def check_transfer_before_reply(pack: PolicyPack, where: str) -> None:
    """Refuse a pack in which a reply could fall due before the case is even due to be passed on:
    the department would be late before it had the case."""
    for case_type in ("complaint", "report"):
        reply = pack.limits.get(f"{case_type}.reply")
        transfer = pack.limits.get(transfer_key(pack, case_type))
        if reply is None or transfer is None:
            continue
        if _shortest(reply) < _longest(transfer):
            raise PolicyError(
                f"{where}: {case_type}.reply ({reply.amount} {reply.unit}) could fall due before "
                f"{transfer.key} ({transfer.amount} {transfer.unit}); a reply must come after the "
                "transfer. Complaints and reports are passed on at once (004 3.2): count their "
                "transfer in hours"
            )


# ---------------------------------------------------------------- loading


def _packs_dir() -> Traversable:
    return resources.files(PACKAGE).joinpath(PACKS_DIR)


def pack_names() -> list[str]:
    """Names of the packs shipped in the package (file stems)."""
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in _packs_dir().iterdir()
        if entry.name.endswith(".yaml")
    )


def _read_raw(name: str) -> Any:
    entry = _packs_dir().joinpath(f"{name}.yaml")
    if not entry.is_file():
        raise PolicyError(
            f"no policy pack named {name!r}; shipped packs: {', '.join(pack_names())}"
        )
    try:
        return yaml.safe_load(entry.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy pack {name!r}: invalid YAML: {exc}") from None


def load_pack(name: str = DEFAULT_PACK, *, _seen: tuple[str, ...] = ()) -> PolicyPack:
    """Load a shipped pack by name, resolving `extends` recursively."""
    if name in _seen:
        raise PolicyError(f"policy pack inheritance cycle: {' -> '.join((*_seen, name))}")
    raw = _read_raw(name)
    parent_name = raw.get("extends") if isinstance(raw, Mapping) else None
    parent = load_pack(parent_name, _seen=(*_seen, name)) if parent_name else None
    pack = parse_pack(raw, parent, origin=f"{PACKS_DIR}/{name}.yaml")
    if pack.name != name:
        raise PolicyError(f"{PACKS_DIR}/{name}.yaml declares name {pack.name!r}; they must match")
    return pack


def load_packs() -> dict[str, PolicyPack]:
    """Every shipped pack, by name."""
    return {name: load_pack(name) for name in pack_names()}


# ---------------------------------------------------------------- which pack applies


class PolicyBook:
    """The succession of packs a centre has adopted, each from its effective date.

    `in_force(opened_at)` answers "which rules did we promise this ticket?":
    the pack with the latest effective_from on or before the ticket's business
    date. Adopting a new pack (a new effective_from) therefore affects only
    tickets opened from that date on.
    """

    def __init__(self, packs: Iterable[PolicyPack], tz: tzinfo | str | None = None) -> None:
        ordered = sorted(packs, key=lambda p: p.effective_from)
        if not ordered:
            raise PolicyError("a PolicyBook needs at least one pack")
        for earlier, later in pairwise(ordered):
            if earlier.effective_from == later.effective_from:
                raise PolicyError(
                    f"packs {earlier.ref} and {later.ref} both take effect on "
                    f"{later.effective_from}; which one applies would be ambiguous"
                )
        self._packs = tuple(ordered)
        self._tz = tz

    @property
    def packs(self) -> tuple[PolicyPack, ...]:
        return self._packs

    def in_force(self, opened_at: datetime | date) -> PolicyPack:
        day = (
            opened_at if not isinstance(opened_at, datetime) else business_date(opened_at, self._tz)
        )
        chosen = None
        for pack in self._packs:
            if pack.effective_from <= day:
                chosen = pack
            else:
                break
        if chosen is None:
            raise NoPolicyInForce(
                f"no policy pack in force on {day.isoformat()}; the earliest, "
                f"{self._packs[0].ref}, takes effect on {self._packs[0].effective_from}"
            )
        return chosen

    def limit_for(self, key: str, opened_at: datetime | date) -> Limit:
        return self.in_force(opened_at).limit(key)


# ---------------------------------------------------------------- the packs a centre adopted

PACKS_ENV = "BRIGHTLINE_POLICY_PACKS"
PACK_FILES_ENV = "BRIGHTLINE_POLICY_PACK_FILES"


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.startswith("["):
        return [str(v) for v in json.loads(raw)]
    return [part.strip() for part in raw.split(",") if part.strip()]


def load_pack_file(path: str | Path) -> PolicyPack:
    """A pack from a file outside the package (a centre's own, or a drill pack with short limits)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"policy pack file {path}: cannot read: {error}") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"policy pack file {path}: invalid YAML: {error}") from None
    parent = load_pack(raw["extends"]) if isinstance(raw, dict) and raw.get("extends") else None
    return parse_pack(raw, parent, origin=str(path))


def adopted_pack_names() -> list[str]:
    return _env_list(PACKS_ENV, [DEFAULT_PACK])


def adopted_pack_files() -> list[str]:
    return _env_list(PACK_FILES_ENV, [])


_books: dict[tuple[Any, ...], PolicyBook] = {}


def _stamp(path: str) -> tuple[str, float, int]:
    try:
        stat = os.stat(path)
        return path, stat.st_mtime, stat.st_size
    except OSError:
        return path, -1.0, -1


def adopted_book(
    pack_names: Iterable[str] | None = None, pack_files: Iterable[str] | None = None
) -> PolicyBook:
    """The book of the packs adopted: the arguments, else the shared environment. Pack files are
    stat'ed on each call and read again when they changed, so an edited or newly dated pack is in
    force at once, in every service reading it here."""
    names = tuple(pack_names) if pack_names is not None else tuple(adopted_pack_names())
    files = tuple(pack_files) if pack_files is not None else tuple(adopted_pack_files())
    key = (names, tuple(_stamp(f) for f in files))
    book = _books.get(key)
    if book is None:
        book = PolicyBook([*(load_pack(n) for n in names), *(load_pack_file(f) for f in files)])
        _books.clear()  # only the newest stamp is worth keeping
        _books[key] = book
    return book


def limit_due(
    limit: Limit, opened_at: datetime, tz: tzinfo | str | None = None
) -> tuple[datetime, bool]:
    """When `limit` falls due if opened at `opened_at` and never paused, and whether the count is
    provisional (it ran through a year the working-day calendar does not know yet). The SLA monitor
    does the same count with pauses; services that only need the promise (casework's transfer, the
    callback window) call this."""
    local = require_aware(opened_at, "opened_at").astimezone(
        _business_tz(tz) if not isinstance(tz, tzinfo) else tz
    )
    span = limit.fixed_span()
    if span is not None:
        return local + span, False
    if limit.unit is Unit.CALENDAR_DAYS:
        return local + timedelta(days=limit.amount), False
    counted = add_working_days_provisional(local, limit.amount, local.tzinfo)
    return counted.at, counted.provisional
