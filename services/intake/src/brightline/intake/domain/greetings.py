"""Greeting engine: what a 95598 agent says when a call opens, in special situations, and
when it closes.

The words live in `brightline/intake/rules/greetings.yaml` (versioned data a utility edits
without code); this module picks and fills them. Seed 004, 篇2 §2 and §3.5.

    rules = GreetingRules.load()
    g = rules.greet(GreetingContext(call_time=now, staff_no="1024", unit_name="国网杭州供电公司"))
    g.opening  # "早上好，国网杭州供电公司95598，1024号为您服务，请问有什么可以帮您？"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from brightline.calendar import festival_codes_on

# ---------------------------------------------------------------------------------------
# Festivals: brightline.calendar works them out; these are the codes greetings know.
# ---------------------------------------------------------------------------------------
FESTIVAL_CODES: tuple[str, ...] = (
    "spring_festival",
    "new_year_eve",
    "lantern",
    "qingming",
    "dragon_boat",
    "qixi",
    "mid_autumn",
    "double_ninth",
    "new_year",
    "labour_day",
    "national_day",
)


def festivals_on(day: date) -> list[str]:
    """Festival codes for `day` (a local calendar date), in FESTIVAL_CODES order.

    The lunar arithmetic lives in brightline.calendar (shared with other services); codes
    the greeting rules do not know (e.g. laba) are dropped here.
    """
    found = set(festival_codes_on(day))
    return [code for code in FESTIVAL_CODES if code in found]


# ---------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------
TEXT_LANGUAGES: tuple[str, ...] = ("zh", "en")
CALLER_LANGUAGES: tuple[str, ...] = ("zh", "en", "dialect")

SYSTEM_FAULT = "system_fault"
OUTAGE_KNOWN = "outage_known"
SILENT_CALL = "silent_call"
INAUDIBLE = "inaudible"
WRONG_NUMBER = "wrong_number"
KIND_INVITATION = "kind_invitation"
HARASSING = "harassing"
AGITATED = "agitated"
POLICY_CONFLICT = "policy_conflict"
SITUATIONS: tuple[str, ...] = (
    SYSTEM_FAULT,
    OUTAGE_KNOWN,
    SILENT_CALL,
    INAUDIBLE,
    WRONG_NUMBER,
    KIND_INVITATION,
    HARASSING,
    AGITATED,
    POLICY_CONFLICT,
)

# What happens after a situation's last line.
ACTIONS: tuple[str, ...] = ("continue", "hang_up", "transfer_supervisor", "take_callback_number")
TIMED_ACTIONS: tuple[str, ...] = ("say", "hang_up")

# Which thanks the closing line uses; other ticket types get the general thanks.
CLOSING_KINDS: tuple[str, ...] = (
    "general",
    "suggestion",
    "opinion",
    "complaint",
    "report",
    "praise",
)
REPLY_UNITS: tuple[str, ...] = ("working_days", "days", "hours")

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_RULES = "greetings.yaml"


class GreetingRulesError(ValueError):
    """The greeting rules file is malformed; `problems` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid greeting rules: " + "; ".join(problems))


# ---------------------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutageNotice:
    """A known outage in the caller's area (from outage management)."""

    area: str
    expected_restore_at: datetime | None = None
    cause: str | None = None
    area_en: str | None = None
    cause_en: str | None = None


@dataclass(frozen=True)
class ReplyPromise:
    """When the caller will hear back: `amount` `unit` (5 working_days) or `by` a moment."""

    amount: int | None = None
    unit: str = "working_days"
    by: datetime | None = None

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.by is None):
            raise ValueError("ReplyPromise needs exactly one of `amount` or `by`")
        if self.amount is not None and (self.amount <= 0 or self.unit not in REPLY_UNITS):
            raise ValueError(f"ReplyPromise: bad amount/unit {self.amount!r} {self.unit!r}")
        if self.by is not None and self.by.tzinfo is None:
            raise ValueError("ReplyPromise.by must be timezone-aware")


@dataclass(frozen=True)
class GreetingContext:
    """Everything the greeting depends on.

    `festivals=None` means "work them out from the call date"; pass a tuple to override
    (e.g. from brightline.calendar). `situations` are flags from SITUATIONS; giving an
    `outage` implies `outage_known`. `closing_for` is a ticket type or "general".
    """

    call_time: datetime
    staff_no: str
    unit_name: str
    unit_name_en: str | None = None
    language: str = "zh"
    dialect: str | None = None
    festivals: tuple[str, ...] | None = None
    situations: frozenset[str] = frozenset()
    outage: OutageNotice | None = None
    closing_for: str = "general"
    reply_within: ReplyPromise | str | None = None
    policy_rule: str | None = None
    agent_language: str = "zh"

    def __post_init__(self) -> None:
        if self.call_time.tzinfo is None or self.call_time.utcoffset() is None:
            raise ValueError("call_time must be timezone-aware")
        if self.language not in CALLER_LANGUAGES:
            raise ValueError(f"language must be one of {CALLER_LANGUAGES}, not {self.language!r}")
        if self.agent_language not in TEXT_LANGUAGES:
            raise ValueError(f"agent_language must be one of {TEXT_LANGUAGES}")
        unknown = set(self.situations) - set(SITUATIONS)
        if unknown:
            raise ValueError(f"unknown situation(s): {sorted(unknown)}")
        if OUTAGE_KNOWN in self.situations and self.outage is None:
            raise ValueError("situation outage_known needs an OutageNotice in `outage`")
        if not str(self.staff_no).strip() or not self.unit_name.strip():
            raise ValueError(
                "staff_no and unit_name are required: the seed asks agents to give both"
            )

    @property
    def text_language(self) -> str:
        """Language the spoken lines are in: dialect callers get Mandarin text."""
        return "en" if self.language == "en" else "zh"


@dataclass(frozen=True)
class TimedLine:
    """Say `text` once `after_seconds` have passed without an answer, then do `action`."""

    after_seconds: int
    text: str
    action: str  # "say" | "hang_up"


@dataclass(frozen=True)
class SituationPrompt:
    situation: str
    lines: tuple[str, ...]
    action: str
    timed: tuple[TimedLine, ...] = ()


@dataclass(frozen=True)
class Greeting:
    """What the agent's screen shows for the call.

    Spoken order: `opening`, then `announcements` (before anything is asked), then the
    situation `prompts`; `closing` at the end of the call (thanks, when they hear back, and
    "anything else?"), then `goodbye` only after the customer's answer. `agent_notes` and
    `closing_reminder` are for the agent only and never spoken; both show while the call is live.
    """

    opening: str
    announcements: tuple[str, ...]
    prompts: tuple[SituationPrompt, ...]
    closing: str
    goodbye: str
    closing_reminder: str
    agent_notes: tuple[str, ...]
    language: str
    caller_language: str
    time_band: str
    festival: str | None
    rules_version: str

    @property
    def transfer_to_supervisor(self) -> bool:
        return any(p.action == "transfer_supervisor" for p in self.prompts)

    def prompt(self, situation: str) -> SituationPrompt:
        for p in self.prompts:
            if p.situation == situation:
                return p
        raise KeyError(situation)

    def spoken_lines(self) -> list[str]:
        """Opening, announcements and untimed prompt lines in the order they are said."""
        lines = [self.opening, *self.announcements]
        for p in self.prompts:
            lines.extend(p.lines)
        return lines


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------
def _hhmm(value: str) -> time:
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


def _in_band(t: time, start: time, end: time) -> bool:
    if start < end:
        return start <= t < end
    return t >= start or t < end  # wraps past midnight


def _format_moment(moment: datetime, lang: str, tz: ZoneInfo, today: date | None) -> str:
    local = moment.astimezone(tz)
    hm = local.strftime("%H:%M")
    if today is not None and local.date() == today:
        return f"今天{hm}" if lang == "zh" else f"{hm} today"
    if lang == "zh":
        return f"{local.month}月{local.day}日{hm}"
    return f"{hm} on {local.day} {_MONTHS_EN[local.month - 1]}"


@dataclass(frozen=True)
class GreetingRules:
    version: int | str
    data: dict[str, Any] = field(repr=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> GreetingRules:
        """Load and validate rules; without `path`, the file shipped with intake."""
        if path is None:
            raw = (
                resources.files("brightline.intake.rules")
                .joinpath(DEFAULT_RULES)
                .read_text("utf-8")
            )
        else:
            raw = Path(path).read_text(encoding="utf-8")
        return cls.from_dict(yaml.safe_load(raw))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GreetingRules:
        problems = validate_greeting_rules(data)
        if problems:
            raise GreetingRulesError(problems)
        return cls(version=data["version"], data=data)

    @property
    def ref(self) -> str:
        return f"greetings@{self.version}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.data.get("timezone", "Asia/Shanghai"))

    # -- parts -----------------------------------------------------------------------
    def time_band(self, call_time: datetime) -> dict[str, Any]:
        local = call_time.astimezone(self.tz).time()
        for band in self.data["time_bands"]:
            if _in_band(local, _hhmm(band["start"]), _hhmm(band["end"])):
                found: dict[str, Any] = band
                return found
        raise GreetingRulesError([f"no time band covers {local}"])  # validation prevents this

    def festival_for(self, festivals: Iterable[str]) -> str | None:
        present = set(festivals)
        for code in self.data["festival_priority"]:
            if code in present and code in self.data["festivals"]:
                return str(code)
        return None

    def opening(self, ctx: GreetingContext) -> tuple[str, str, str | None]:
        """(opening line, time band id, festival code or None)."""
        lang = ctx.text_language
        band = self.time_band(ctx.call_time)
        festivals = ctx.festivals
        if festivals is None:
            festivals = tuple(festivals_on(ctx.call_time.astimezone(self.tz).date()))
        festival = self.festival_for(festivals)
        unit = ctx.unit_name_en or ctx.unit_name if lang == "en" else ctx.unit_name
        values = {
            "unit": unit,
            "staff_no": str(ctx.staff_no).strip(),
            "salutation": band["salutation"][lang],
        }
        if festival:
            values["festival_line"] = self.data["festivals"][festival][lang]
            line = self.data["opening"]["festival"][lang].format(**values)
        else:
            line = self.data["opening"]["standard"][lang].format(**values)
        return line, band["id"], festival

    def announcements(self, ctx: GreetingContext) -> tuple[str, ...]:
        if ctx.outage is None:
            return ()
        lang, o, a = ctx.text_language, ctx.outage, self.data["announcements"]
        area = (o.area_en or o.area) if lang == "en" else o.area
        cause = ((o.cause_en or o.cause) if lang == "en" else o.cause) or a["default_cause"][lang]
        if o.expected_restore_at is None:
            return (a["outage_known_no_eta"][lang].format(area=area, cause=cause),)
        today = ctx.call_time.astimezone(self.tz).date()
        restore_at = _format_moment(o.expected_restore_at, lang, self.tz, today)
        return (a["outage_known"][lang].format(area=area, cause=cause, restore_at=restore_at),)

    def situation(self, situation: str, ctx: GreetingContext) -> SituationPrompt:
        lang, spec = ctx.text_language, self.data["situations"][situation]
        values = {"rule": ctx.policy_rule or "××"}
        return SituationPrompt(
            situation=situation,
            lines=tuple(line[lang].format(**values) for line in spec.get("lines", ())),
            action=spec["action"],
            timed=tuple(
                TimedLine(int(t["after_seconds"]), t[lang], t["action"])
                for t in spec.get("timed", ())
            ),
        )

    def reply_phrase(
        self, promise: ReplyPromise | str, lang: str, today: date | None = None
    ) -> str:
        if isinstance(promise, str):
            return promise
        units = self.data["closing"]["reply_units"]
        if promise.by is not None:
            return str(
                units["by"][lang].format(at=_format_moment(promise.by, lang, self.tz, today))
            )
        return str(units[promise.unit][lang].format(n=promise.amount))

    def closing(
        self,
        lang: str = "zh",
        closing_for: str = "general",
        reply_within: ReplyPromise | str | None = None,
        today: date | None = None,
    ) -> str:
        """Thanks (for the suggestion/complaint/... when there was one), when they will
        hear back, and whether there is anything else; the goodbye follows the answer."""
        c = self.data["closing"]
        kind = closing_for if closing_for in c["thanks"] else "general"
        text: str = c["thanks"][kind][lang]
        if reply_within is not None:
            text += c["reply"][lang].format(
                reply_within=self.reply_phrase(reply_within, lang, today)
            )
        farewell: str = c["farewell"][lang]
        return text + farewell

    def agent_note(self, key: str, lang: str = "zh") -> str:
        return str(self.data["agent_notes"][key][lang])

    # -- whole greeting --------------------------------------------------------------
    def greet(self, ctx: GreetingContext) -> Greeting:
        lang = ctx.text_language
        opening, band, festival = self.opening(ctx)
        situations = set(ctx.situations)
        if ctx.outage is not None:
            situations.add(OUTAGE_KNOWN)
        prompts = tuple(self.situation(s, ctx) for s in SITUATIONS if s in situations)

        notes = [self.agent_note("manner", ctx.agent_language)]
        if ctx.language == "dialect":
            note = self.agent_note("dialect", ctx.agent_language)
            if ctx.dialect:
                note += f"（{ctx.dialect}）" if ctx.agent_language == "zh" else f" ({ctx.dialect})"
            notes.insert(0, note)
        elif ctx.language == "en":
            notes.insert(0, self.agent_note("english", ctx.agent_language))
        reminder = self.agent_note("hang_up_last", ctx.agent_language)
        notes.append(reminder)

        today = ctx.call_time.astimezone(self.tz).date()
        return Greeting(
            opening=opening,
            announcements=self.announcements(ctx),
            prompts=prompts,
            closing=self.closing(lang, ctx.closing_for, ctx.reply_within, today),
            goodbye=self.data["closing"]["goodbye"][lang],
            closing_reminder=reminder,
            agent_notes=tuple(notes),
            language=lang,
            caller_language=ctx.language,
            time_band=band,
            festival=festival,
            rules_version=self.ref,
        )


_default_rules: GreetingRules | None = None


def default_rules() -> GreetingRules:
    global _default_rules
    if _default_rules is None:
        _default_rules = GreetingRules.load()
    return _default_rules


def greet(ctx: GreetingContext, rules: GreetingRules | None = None) -> Greeting:
    """Build the greeting for a call with the shipped (or given) rules."""
    return (rules or default_rules()).greet(ctx)


# ---------------------------------------------------------------------------------------
# Validation — run on every load, and by the unit tests over the shipped file.
# ---------------------------------------------------------------------------------------
def _texts(node: Any, where: str, problems: list[str], extra: tuple[str, ...] = ()) -> None:
    if not isinstance(node, dict):
        problems.append(f"{where}: expected a mapping with zh and en")
        return
    for lang in TEXT_LANGUAGES:
        if not isinstance(node.get(lang), str) or not node[lang].strip():
            problems.append(f"{where}: missing {lang} text")
    stray = set(node) - set(TEXT_LANGUAGES) - set(extra)
    if stray:
        problems.append(
            f"{where}: unexpected keys {sorted(map(str, stray))} (unquoted comma in a flow mapping?)"
        )


def validate_greeting_rules(data: Any) -> list[str]:
    """Every problem in a greeting rules document; empty when it is sound."""
    p: list[str] = []
    if not isinstance(data, dict):
        return ["rules must be a mapping"]
    for key in (
        "version",
        "opening",
        "time_bands",
        "festival_priority",
        "festivals",
        "agent_notes",
        "announcements",
        "situations",
        "closing",
    ):
        if key not in data:
            p.append(f"missing `{key}`")
    if p:
        return p
    try:
        ZoneInfo(data.get("timezone", "Asia/Shanghai"))
    except Exception:  # noqa: BLE001 — any failure means a bad zone name
        p.append(f"unknown timezone {data.get('timezone')!r}")

    for form in ("standard", "festival"):
        _texts(data["opening"].get(form), f"opening.{form}", p)
        for lang in TEXT_LANGUAGES:
            text = (data["opening"].get(form) or {}).get(lang, "")
            for ph in ("{unit}", "{staff_no}"):
                if ph not in text:
                    p.append(f"opening.{form}.{lang}: must contain {ph}")

    # Bands: every minute of the day in exactly one band.
    bands = data["time_bands"]
    ids = [b.get("id") for b in bands]
    if len(set(ids)) != len(ids):
        p.append("time_bands: duplicate ids")
    try:
        spans = [(_hhmm(b["start"]), _hhmm(b["end"])) for b in bands]
        for minute in range(0, 24 * 60, 1):
            t = time(minute // 60, minute % 60)
            hits = sum(_in_band(t, s, e) for s, e in spans)
            if hits != 1:
                p.append(f"time_bands: {t.strftime('%H:%M')} is in {hits} bands, expected 1")
                break
    except (KeyError, ValueError) as exc:
        p.append(f"time_bands: bad start/end ({exc})")
    for b in bands:
        _texts(b.get("salutation"), f"time_bands.{b.get('id')}.salutation", p)

    for code in FESTIVAL_CODES:
        if code not in data["festivals"]:
            p.append(f"festivals: no greeting for {code}")
        if code not in data["festival_priority"]:
            p.append(f"festival_priority: {code} missing")
    for code, line in data["festivals"].items():
        if code not in FESTIVAL_CODES:
            p.append(f"festivals: unknown festival code {code}")
        _texts(line, f"festivals.{code}", p)

    for key in ("dialect", "english", "manner", "hang_up_last"):
        _texts(data["agent_notes"].get(key), f"agent_notes.{key}", p)
    for key in ("outage_known", "outage_known_no_eta", "default_cause"):
        _texts(data["announcements"].get(key), f"announcements.{key}", p)

    for name in SITUATIONS:
        spec = data["situations"].get(name)
        if not isinstance(spec, dict):
            p.append(f"situations: {name} missing")
            continue
        if spec.get("action") not in ACTIONS:
            p.append(f"situations.{name}: action must be one of {ACTIONS}")
        if not spec.get("lines") and not spec.get("timed"):
            p.append(f"situations.{name}: needs lines or timed lines")
        for i, line in enumerate(spec.get("lines") or ()):
            _texts(line, f"situations.{name}.lines[{i}]", p)
        timed = spec.get("timed") or ()
        last = -1
        for i, t in enumerate(timed):
            _texts(t, f"situations.{name}.timed[{i}]", p, extra=("after_seconds", "action"))
            if not isinstance(t.get("after_seconds"), int) or t["after_seconds"] <= last:
                p.append(f"situations.{name}.timed[{i}]: after_seconds must increase")
            else:
                last = t["after_seconds"]
            if t.get("action") not in TIMED_ACTIONS:
                p.append(f"situations.{name}.timed[{i}]: action must be one of {TIMED_ACTIONS}")
        if timed and (timed[-1].get("action") != "hang_up" or spec.get("action") != "hang_up"):
            p.append(f"situations.{name}: timed lines must end with hang_up")
        if any(t.get("action") == "hang_up" for t in timed[:-1]):
            p.append(f"situations.{name}: only the last timed line may hang up")
    for name in data["situations"]:
        if name not in SITUATIONS:
            p.append(f"situations: unknown situation {name}")

    closing = data["closing"]
    for kind in CLOSING_KINDS:
        _texts((closing.get("thanks") or {}).get(kind), f"closing.thanks.{kind}", p)
    _texts(closing.get("reply"), "closing.reply", p)
    _texts(closing.get("farewell"), "closing.farewell", p)
    _texts(closing.get("goodbye"), "closing.goodbye", p)
    for unit in (*REPLY_UNITS, "by"):
        _texts((closing.get("reply_units") or {}).get(unit), f"closing.reply_units.{unit}", p)
    return p
