"""Forbidden service phrases (服务忌语): load the phrase book, find violations in text.

Matching works on a normalised copy of the text (NFKC folds full-width forms into
half-width ones, case is folded, whitespace and punctuation are dropped) while every
violation reports its span in the *original* text, so a UI can underline it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from brightline.platform.rulefile import load_rule_file, parse_rules

DEFAULT_PHRASES = "forbidden_phrases.yaml"


@dataclass(frozen=True)
class Violation:
    """One forbidden phrase found in a text; `start:end` slices the original text."""

    phrase: str
    start: int
    end: int
    category: str
    suggestion: str | None = None


class PhraseEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    phrase: str
    category: str = Field(min_length=1)
    suggestion: str | None = None
    variants: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    source: str = "trade"
    quote: str | None = None  # for seed:<file>, the seed's sentence containing the phrase


class ForbiddenPhraseError(ValueError):
    """Raised by `ensure_polite`; `violations` lists every phrase found."""

    def __init__(self, violations: Iterable[Violation]):
        self.violations: tuple[Violation, ...] = tuple(violations)
        names = "、".join(dict.fromkeys(f"“{v.phrase}”" for v in self.violations))
        super().__init__(f"text contains forbidden service phrase(s) 服务忌语: {names}")


def _is_ignored(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # Z*: separators, P*: punctuation, S*: symbols, Cc/Cf: controls and zero-width chars.
    return cat[0] in "ZPS" or cat in ("Cc", "Cf")


def normalise(text: str) -> tuple[str, list[int]]:
    """Return the normalised text and, for each of its characters, the index in `text`."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for folded in unicodedata.normalize("NFKC", ch).casefold():
            if not _is_ignored(folded):
                out.append(folded)
                index.append(i)
    return "".join(out), index


def _norm(text: str) -> str:
    return normalise(text)[0]


def _find_all(haystack: str, needle: str) -> Iterable[int]:
    start = haystack.find(needle)
    while start != -1:
        yield start
        start = haystack.find(needle, start + 1)


class PhraseBookFile(BaseModel):
    """forbidden_phrases.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int | str
    categories: dict[str, str] = Field(default_factory=dict)
    phrases: tuple[PhraseEntry, ...]

    @field_validator("phrases")
    @classmethod
    def _matchable(cls, phrases: tuple[PhraseEntry, ...]) -> tuple[PhraseEntry, ...]:
        for entry in phrases:
            if not _norm(entry.phrase):
                raise ValueError(f"{entry.phrase!r} is only punctuation or whitespace")
        return phrases

    @model_validator(mode="after")
    def _known_categories(self) -> PhraseBookFile:
        if self.categories:
            for entry in self.phrases:
                if entry.category not in self.categories:
                    raise ValueError(f"{entry.phrase}: unknown category {entry.category!r}")
        return self


@dataclass
class PhraseBook:
    """A versioned list of forbidden phrases."""

    version: int | str
    entries: tuple[PhraseEntry, ...]
    categories: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PhraseBook:
        """Load a phrase book; without `path`, the one shipped in this package. A broken file
        raises brightline.platform.rulefile.RuleFileError naming file, path and line."""
        if path is None:
            raw = resources.files(__package__).joinpath(DEFAULT_PHRASES).read_text("utf-8")
            file = parse_rules(PhraseBookFile, raw, DEFAULT_PHRASES)
        else:
            file = load_rule_file(PhraseBookFile, Path(path))
        return cls(version=file.version, entries=file.phrases, categories=file.categories)

    def check(self, text: str) -> list[Violation]:
        """Every forbidden phrase in `text`, in order of appearance.

        A match lying inside a longer match (e.g. "不知道" inside a listed "我不知道") is
        reported once, as the longer phrase. A match inside one of the entry's
        `exceptions` ("听不清楚" for "不清楚") is not a violation.
        """
        norm, index = normalise(text)
        found: list[tuple[int, int, PhraseEntry]] = []  # spans in normalised text
        for entry in self.entries:
            excepted = self._excepted_spans(norm, entry)
            for form in (entry.phrase, *entry.variants):
                needle = _norm(form)
                for pos in _find_all(norm, needle):
                    end = pos + len(needle)
                    if any(a <= pos and end <= b for a, b in excepted):
                        continue
                    found.append((pos, end, entry))
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        kept: list[tuple[int, int, PhraseEntry]] = []
        for pos, end, entry in found:
            if any(a <= pos and end <= b for a, b, _ in kept):
                continue
            kept.append((pos, end, entry))
        return [
            Violation(
                phrase=entry.phrase,
                start=index[pos],
                end=index[end - 1] + 1,
                category=entry.category,
                suggestion=entry.suggestion,
            )
            for pos, end, entry in kept
        ]

    @staticmethod
    def _excepted_spans(norm: str, entry: PhraseEntry) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for exc in entry.exceptions:
            needle = _norm(exc)
            spans.extend((p, p + len(needle)) for p in _find_all(norm, needle))
        return spans

    def is_polite(self, text: str) -> bool:
        return not self.check(text)

    def ensure_polite(self, text: str) -> str:
        """Return `text` unchanged, or raise ForbiddenPhraseError naming the phrases found."""
        violations = self.check(text)
        if violations:
            raise ForbiddenPhraseError(violations)
        return text


_default_book: PhraseBook | None = None


def default_book() -> PhraseBook:
    """The shipped phrase book, loaded once."""
    global _default_book
    if _default_book is None:
        _default_book = PhraseBook.load()
    return _default_book


def check(text: str) -> list[Violation]:
    """`PhraseBook.check` against the shipped phrase book."""
    return default_book().check(text)


def ensure_polite(text: str) -> str:
    """`PhraseBook.ensure_polite` against the shipped phrase book."""
    return default_book().ensure_polite(text)
