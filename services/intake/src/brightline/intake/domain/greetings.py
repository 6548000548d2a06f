"""Greeting engine: what a 95598 agent says when a call opens, in special situations, and
when it closes.

The words live in `brightline/intake/rules/greetings.yaml` (versioned data a utility edits
without code); this module picks and fills them. Seed 004, 篇2 §2 and §3.5.

    rules = greeting_rules()  # brightline.intake.adapters.rule_files reads rules/greetings.yaml
    g = rules.greet(GreetingContext(call_time=now, staff_no="1024", unit_name="国网杭州供电公司"))
    g.opening  # "早上好，国网杭州供电公司95598，1024号为您服务，请问有什么可以帮您？"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import pairwise
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from brightline.calendar import festival_codes_on

# ---------------------------------------------------------------------------------------
# Festivals: brightline.calendar works them out; these are the codes greetings know.
# ---------------------------------------------------------------------------------------


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
Action = Literal["continue", "hang_up", "transfer_supervisor", "take_callback_number"]
TimedAction = Literal["say", "hang_up"]
FestivalCode = Literal[
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
]
FESTIVAL_CODES: tuple[str, ...] = get_args(FestivalCode)
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, pattern=r"\S")]

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
def _format_moment(moment: datetime, lang: str, tz: ZoneInfo, today: date | None) -> str:
    local = moment.astimezone(tz)
    hm = local.strftime("%H:%M")
    if today is not None and local.date() == today:
        return f"今天{hm}" if lang == "zh" else f"{hm} today"
    if lang == "zh":
        return f"{local.month}月{local.day}日{hm}"
    return f"{hm} on {local.day} {_MONTHS_EN[local.month - 1]}"


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Rules):
    """A line in both text languages."""

    zh: NonEmpty
    en: NonEmpty

    def __getitem__(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class OpeningForms(_Rules):
    standard: Text
    festival: Text

    @model_validator(mode="after")
    def _names_unit_and_staff_no(self) -> OpeningForms:
        for form in (self.standard, self.festival):
            for text in (form.zh, form.en):
                for placeholder in ("{unit}", "{staff_no}"):
                    if placeholder not in text:
                        raise ValueError(f"every opening must contain {placeholder}")
        return self


class TimeBand(_Rules):
    """[start, end) in local time; a band may wrap past midnight."""

    id: str
    start: time
    end: time
    salutation: Text

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hhmm(cls, value: object) -> time:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))

    def covers(self, t: time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # wraps past midnight


class Festivals(_Rules):
    """A greeting line for every festival code (FESTIVAL_CODES)."""

    spring_festival: Text
    new_year_eve: Text
    lantern: Text
    qingming: Text
    dragon_boat: Text
    qixi: Text
    mid_autumn: Text
    double_ninth: Text
    new_year: Text
    labour_day: Text
    national_day: Text


class AgentNotes(_Rules):
    dialect: Text
    english: Text
    manner: Text
    hang_up_last: Text


class Announcements(_Rules):
    outage_known: Text
    outage_known_no_eta: Text
    default_cause: Text


class TimedText(Text):
    after_seconds: int = Field(ge=0)
    action: TimedAction


class Situation(_Rules):
    action: Action
    lines: tuple[Text, ...] = ()
    timed: tuple[TimedText, ...] = ()

    @model_validator(mode="after")
    def _said_and_ended(self) -> Situation:
        if not self.lines and not self.timed:
            raise ValueError("needs lines or timed lines")
        seconds = [t.after_seconds for t in self.timed]
        if any(b <= a for a, b in pairwise(seconds)):
            raise ValueError("timed lines: after_seconds must increase")
        if self.timed and (self.timed[-1].action != "hang_up" or self.action != "hang_up"):
            raise ValueError("timed lines must end with hang_up")
        if any(t.action == "hang_up" for t in self.timed[:-1]):
            raise ValueError("only the last timed line may hang up")
        return self


class Situations(_Rules):
    system_fault: Situation
    outage_known: Situation
    silent_call: Situation
    inaudible: Situation
    wrong_number: Situation
    kind_invitation: Situation
    harassing: Situation
    agitated: Situation
    policy_conflict: Situation


class Thanks(_Rules):
    general: Text
    suggestion: Text
    opinion: Text
    complaint: Text
    report: Text
    praise: Text


class ReplyUnits(_Rules):
    working_days: Text
    days: Text
    hours: Text
    by: Text


class ClosingWords(_Rules):
    thanks: Thanks
    reply: Text
    farewell: Text
    goodbye: Text
    reply_units: ReplyUnits


class GreetingRules(_Rules):
    """The greeting rules file (rules/greetings.yaml), read by brightline.intake.adapters."""

    version: int | str
    timezone: str = "Asia/Shanghai"
    opening: OpeningForms
    time_bands: tuple[TimeBand, ...]
    festival_priority: tuple[FestivalCode, ...]
    festivals: Festivals
    agent_notes: AgentNotes
    announcements: Announcements
    situations: Situations
    closing_words: ClosingWords = Field(alias="closing")  # the closing() method's words

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception as error:  # any failure means a bad zone name
            raise ValueError(f"unknown timezone {value!r}") from error
        return value

    @field_validator("time_bands")
    @classmethod
    def _every_minute_once(cls, bands: tuple[TimeBand, ...]) -> tuple[TimeBand, ...]:
        if len({b.id for b in bands}) != len(bands):
            raise ValueError("duplicate ids")
        for minute in range(24 * 60):
            t = time(minute // 60, minute % 60)
            hits = sum(b.covers(t) for b in bands)
            if hits != 1:
                raise ValueError(f"{t.strftime('%H:%M')} is in {hits} bands, expected 1")
        return bands

    @field_validator("festival_priority")
    @classmethod
    def _ranks_every_festival(cls, codes: tuple[FestivalCode, ...]) -> tuple[FestivalCode, ...]:
        if missing := [c for c in FESTIVAL_CODES if c not in codes]:
            raise ValueError(f"missing {missing}")
        return codes

    @property
    def ref(self) -> str:
        return f"greetings@{self.version}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # -- parts -----------------------------------------------------------------------
    def time_band(self, call_time: datetime) -> TimeBand:
        local = call_time.astimezone(self.tz).time()
        return next(b for b in self.time_bands if b.covers(local))  # validation: exactly one

    def festival_for(self, festivals: Iterable[str]) -> str | None:
        present = set(festivals)
        return next((code for code in self.festival_priority if code in present), None)

    def opening_line(self, ctx: GreetingContext) -> tuple[str, str, str | None]:
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
            "salutation": band.salutation[lang],
        }
        if festival:
            values["festival_line"] = getattr(self.festivals, festival)[lang]
            line = self.opening.festival[lang].format(**values)
        else:
            line = self.opening.standard[lang].format(**values)
        return line, band.id, festival

    def announcements_for(self, ctx: GreetingContext) -> tuple[str, ...]:
        if ctx.outage is None:
            return ()
        lang, o, a = ctx.text_language, ctx.outage, self.announcements
        area = (o.area_en or o.area) if lang == "en" else o.area
        cause = ((o.cause_en or o.cause) if lang == "en" else o.cause) or a.default_cause[lang]
        # A restoration time already past is no promise to repeat to a caller (the outage ran
        # over): the caller hears the no-time line until dispatch sets a new one.
        if o.expected_restore_at is None or o.expected_restore_at <= ctx.call_time:
            return (a.outage_known_no_eta[lang].format(area=area, cause=cause),)
        today = ctx.call_time.astimezone(self.tz).date()
        restore_at = _format_moment(o.expected_restore_at, lang, self.tz, today)
        return (a.outage_known[lang].format(area=area, cause=cause, restore_at=restore_at),)

    def situation(self, situation: str, ctx: GreetingContext) -> SituationPrompt:
        lang, spec = ctx.text_language, getattr(self.situations, situation)
        values = {"rule": ctx.policy_rule or "××"}
        return SituationPrompt(
            situation=situation,
            lines=tuple(line[lang].format(**values) for line in spec.lines),
            action=spec.action,
            timed=tuple(TimedLine(t.after_seconds, t[lang], t.action) for t in spec.timed),
        )

    def reply_phrase(
        self, promise: ReplyPromise | str, lang: str, today: date | None = None
    ) -> str:
        if isinstance(promise, str):
            return promise
        units = self.closing_words.reply_units
        if promise.by is not None:
            return units.by[lang].format(at=_format_moment(promise.by, lang, self.tz, today))
        unit: Text = getattr(units, promise.unit)
        return unit[lang].format(n=promise.amount)

    def closing(
        self,
        lang: str = "zh",
        closing_for: str = "general",
        reply_within: ReplyPromise | str | None = None,
        today: date | None = None,
    ) -> str:
        """Thanks (for the suggestion/complaint/... when there was one), when they will
        hear back, and whether there is anything else; the goodbye follows the answer."""
        c = self.closing_words
        kind = closing_for if closing_for in CLOSING_KINDS else "general"
        thanks: Text = getattr(c.thanks, kind)
        text = thanks[lang]
        if reply_within is not None:
            text += c.reply[lang].format(reply_within=self.reply_phrase(reply_within, lang, today))
        return text + c.farewell[lang]

    def agent_note(self, key: str, lang: str = "zh") -> str:
        note: Text = getattr(self.agent_notes, key)
        return note[lang]

    # -- whole greeting --------------------------------------------------------------
    def greet(self, ctx: GreetingContext) -> Greeting:
        lang = ctx.text_language
        opening, band, festival = self.opening_line(ctx)
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
            announcements=self.announcements_for(ctx),
            prompts=prompts,
            closing=self.closing(lang, ctx.closing_for, ctx.reply_within, today),
            goodbye=self.closing_words.goodbye[lang],
            closing_reminder=reminder,
            agent_notes=tuple(notes),
            language=lang,
            caller_language=ctx.language,
            time_band=band,
            festival=festival,
            rules_version=self.ref,
        )
