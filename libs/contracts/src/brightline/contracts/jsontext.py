"""JSON at orjson's speed, read back as the stdlib expressions it replaced read back.

Two forms:

- `canonical`, hashed by the audit chain's rows sealed before v3 (verify takes it again): byte
  for byte what the stdlib's sorted compact form wrote. orjson writes that for str, int, bool,
  None, lists, tuples and dicts with str keys, and for every float but those below 1e-4 (9.5e-05
  it writes as 0.000095, 1.5e-07 as 1.5e-7): such a float found in its output, an int beyond
  64 bits or a key that is not a str sends the value the stdlib's way.
- everything else (`dumps`, `dumps_rows`): text that is read as values, by PostgreSQL or by
  `loads`, or hashed as it lies (the audit trail's JSON columns since v5, whose digest is taken
  from the text written): orjson's own form, which reads back as the same values; the stdlib
  writes only what orjson refuses (an int beyond 64 bits, a key that is not a str). The check for
  small floats cost a scan of every text (2-3 us a captured row, more than orjson's writing).

Times: `dumps` hands datetimes, dates, times and dataclasses to `default` as the stdlib did (the
audit trail writes a time as its str()); `dumps_rows` writes times as their isoformat(), as
PostgreSQL reads them (orjson's own form: 5-10x faster than a call per time).

Left as orjson writes them, values the stdlib refused or could not have put in PostgreSQL's
JSONB, or that no caller passes: NaN and Infinity (null here; the stdlib wrote NaN, which JSONB
refuses), a UUID where `default` is not str (its str() here, the stdlib raised TypeError) and a
member of a plain Enum (its value here, str(member) through default=str there; the project's
enums are StrEnums, which both write as their value).

Kafka records are not written here: their data is written as the CloudEvents library writes it
(spaces after separators, non-ASCII escaped), and so is the idempotency request hash
(messaging.idempotency), hashed over that form.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# Where a float below 1e-4 is: orjson writes it fixed (0.0000…) or with a one-digit exponent
# (1.5e-7, where repr writes 1.5e-07), a number token that compact JSON ends with a delimiter or
# the end of the text. One pattern per mark, each starting with its literal, which re searches
# for as fast as bytes.find; an alternation of the two, or the number's start in the pattern,
# scanned byte by byte (10-20x slower), and a find loop with a check per hit paid ~1 us per
# UUID ending in "e-" (a batch of 50 rows: 84 us to check, 4 us for orjson to write).
_SMALL_FLOAT_MARKS = (
    re.compile(rb"0\.0000[0-9]*(?:[,\]}]|\Z)"),
    re.compile(rb"e-[0-9]{1,3}(?:[,\]}]|\Z)"),
)
_NUMBER_BEFORE = re.compile(rb"(?:^|[:,\[])-?[0-9.]*\Z")  # the mark is inside a number token
# Every digit as 0, every other byte as a space: a run of 19 zeros is a digit run an integer
# beyond 64 bits needs, which orjson reads as a float (the stdlib as an int).
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGITS = b"0" * 19


def canonical(value: Any) -> bytes:
    """The canonical form, hashed: what `json.dumps(value, sort_keys=True, separators=(",",
    ":"), ensure_ascii=False).encode()` wrote (keys in code point order, which is UTF-8 byte
    order)."""
    try:
        text = orjson.dumps(value, option=_OPTIONS | orjson.OPT_SORT_KEYS)
    except TypeError:  # the stdlib then raises it itself, or writes what orjson refuses
        text = None
    if text is None or _float_unlike_repr(text):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return text


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON that reads back as `json.dumps(value, separators=(",", ":"),
    ensure_ascii=False, default=default)` read back: keys in their order, `default` asked for
    what JSON has no form of (times too), floats as orjson writes them."""
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS)
    except TypeError:  # also what `default` raised: the stdlib then raises it itself
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, default=default
        ).encode()


def _float_unlike_repr(text: bytes) -> bool:
    """Whether orjson may have written a float unlike Python's repr (also for 1e-10, which both
    write alike); text in a string that looks like one only sends the value the stdlib's way."""
    for mark in _SMALL_FLOAT_MARKS:
        for found in mark.finditer(text):
            at = found.start()
            if _NUMBER_BEFORE.search(text, max(0, at - 32), at):
                return True
    return False


class Dumped(str):
    """JSON text written already (by `dumps`): a JSON column's serializer passes it through as
    it is, so a value is written once, not written, read back and written again."""

    __slots__ = ()

    @classmethod
    def of(cls, value: Any, default: Callable[[Any], Any] | None = None) -> Dumped:
        return cls(dumps(value, default).decode())


def dumps_rows(rows: list[dict[str, Any]]) -> bytes:
    """Rows as one JSON array for PostgreSQL to read (json(b)_populate_recordset), times as their
    isoformat(), a Dumped value embedded as the JSON it is, not written as a string. Never
    hashed: what PostgreSQL reads from it is the same whichever way a float is written, and the
    stdlib only writes what orjson refuses (each Dumped value read back for it)."""
    # str(v): orjson takes a Fragment of a plain str or bytes only, a subclass (Dumped) it
    # refuses, and every batch went the slow way (each value read back, the whole written again).
    embedded = [
        {k: orjson.Fragment(str(v)) if type(v) is Dumped else v for k, v in row.items()}
        for row in rows
    ]
    try:
        return orjson.dumps(embedded, option=orjson.OPT_PASSTHROUGH_DATACLASS)
    except TypeError:
        pass
    thawed = [{k: loads(v) if type(v) is Dumped else v for k, v in row.items()} for row in rows]
    return dumps(thawed, _isoformat)


def _isoformat(value: Any) -> Any:
    """A row's time as orjson writes it, for the rows the stdlib writes instead."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps_embedding(values: list[Any]) -> bytes:
    """`values` (strings, None) as one compact JSON array, a Dumped value embedded as the JSON
    text it is, not as a string: the same bytes for the same strings and texts, whoever asks
    (the audit trail's writer hashing a row, and verify hashing it again from what it reads)."""
    return orjson.dumps([orjson.Fragment(str(v)) if type(v) is Dumped else v for v in values])


def loads(text: str | bytes) -> Any:
    """What `json.loads(text)` reads: orjson's, unless it refuses the text (NaN, a lone
    surrogate, a byte order mark…) or the text has a digit run an integer beyond 64 bits needs."""
    try:
        data = text.encode() if isinstance(text, str) else text
    except UnicodeEncodeError:  # a lone surrogate
        return json.loads(text)
    if _LONG_DIGITS not in data.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
