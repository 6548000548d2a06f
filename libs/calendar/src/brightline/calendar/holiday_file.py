"""The operator's holiday file: the State Council's annual notice, entered as data.

Each autumn the State Council (国务院办公厅) publishes the next year's public
holidays and make-up working days (调休). `chinesecalendar` ships them only with
a new package release, which may come weeks after the notice, and a service
cannot be upgraded on the day. So an operator enters the notice here; a year
listed in the file is decided by the file alone, any other year by the package.

Format (YAML, described by `HolidayFile` below)::

    years:
      2027:
        notice: "国务院办公厅关于2027年部分节假日安排的通知 (国办发明电〔2026〕N号)"
        published: 2026-11-12
        holidays:                       # days off, weekends inside a holiday included or not
          - 2027-01-01
          - {from: 2027-02-06, to: 2027-02-13, name: 春节}
        workdays:                       # make-up working days: Saturdays or Sundays only
          - 2027-02-14

Within a listed year: a holiday is off, a make-up day is worked, any other day
is worked Monday to Friday. The file is found at $BRIGHTLINE_HOLIDAY_FILE, or
else the (empty) file shipped beside this module.
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

logger = logging.getLogger(__name__)

ENV_VAR = "BRIGHTLINE_HOLIDAY_FILE"
SHIPPED = Path(__file__).with_name("holidays.yaml")


class HolidayFileError(ValueError):
    """The holiday file is unreadable or inconsistent; the message names the year and the date."""


class DayRange(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    name: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> DayRange:
        if self.end < self.start:
            raise ValueError(f"range {self.start}..{self.end} ends before it starts")
        return self

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


class YearNotice(BaseModel):
    """One year's notice: its days off and its make-up working days."""

    model_config = ConfigDict(extra="forbid")

    notice: str = Field(min_length=1, description="Title and number of the State Council notice")
    published: date | None = None
    holidays: list[date | DayRange] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)

    def holiday_days(self) -> set[date]:
        days: set[date] = set()
        for entry in self.holidays:
            days.update(entry.days() if isinstance(entry, DayRange) else [entry])
        return days


class HolidayFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    years: dict[int, YearNotice] = Field(default_factory=dict)
    origin: str = Field("<memory>", exclude=True)
    digest: str = Field("", exclude=True)

    @field_validator("years", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="after")
    def _consistent(self) -> HolidayFile:
        for year, notice in self.years.items():
            off = notice.holiday_days()
            for day in (*off, *notice.workdays):
                if day.year != year:
                    raise ValueError(f"year {year}: {day} belongs to another year")
            for day in notice.workdays:
                if day in off:
                    raise ValueError(f"year {year}: {day} is both a holiday and a make-up day")
                if day.weekday() < 5:
                    raise ValueError(
                        f"year {year}: make-up working day {day} is a weekday; only a Saturday "
                        "or Sunday can be made a working day"
                    )
        return self

    @property
    def years_known(self) -> frozenset[int]:
        return frozenset(self.years)

    @cached_property
    def _decided(self) -> dict[date, bool]:
        table: dict[date, bool] = {}
        for notice in self.years.values():
            table.update(dict.fromkeys(notice.holiday_days(), False))
            table.update(dict.fromkeys(notice.workdays, True))
        return table

    def decides(self, day: date) -> bool | None:
        """True/False for a day of a listed year; None when the file says nothing of its year."""
        if day.year not in self.years:
            return None
        return self._decided.get(day, day.weekday() < 5)


def parse_holiday_file(text: str, origin: str = "<text>") -> HolidayFile:
    try:
        raw = yaml.safe_load(text) or {}
        if not isinstance(raw, dict):
            raise HolidayFileError(f"holiday file {origin}: expected a mapping with 'years'")
        digest = hashlib.sha256(text.encode()).hexdigest()
        return HolidayFile.model_validate({**raw, "origin": origin, "digest": digest})
    except yaml.YAMLError as error:
        raise HolidayFileError(f"holiday file {origin}: invalid YAML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise HolidayFileError(f"holiday file {origin}: {problems}") from None


def holiday_file_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or SHIPPED)


def load_holiday_file(path: str | Path | None = None) -> HolidayFile:
    path = Path(path) if path else holiday_file_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise HolidayFileError(f"holiday file {path}: cannot read: {error}") from None
    return parse_holiday_file(text, str(path))


_current: HolidayFile | None = None


def current_holiday_file() -> HolidayFile:
    """The file in force (loaded on first use). A broken file at start fails loudly."""
    global _current
    if _current is None:
        _current = load_holiday_file()
    return _current


def reload_holiday_file(path: str | Path | None = None) -> bool:
    """Read the file again; True when its content changed (callers then recompute provisional
    deadlines). A broken file raises HolidayFileError and the previous one stays in force."""
    global _current
    fresh = load_holiday_file(path)
    changed = _current is None or fresh.digest != _current.digest
    if changed:
        logger.info("holiday file loaded: %s, years %s", fresh.origin, sorted(fresh.years))
    _current = fresh
    return changed


def use_holiday_file(holidays: HolidayFile | None) -> None:
    """Put a file in force directly (tests); None forgets it so the next use reads the path."""
    global _current
    _current = holidays
