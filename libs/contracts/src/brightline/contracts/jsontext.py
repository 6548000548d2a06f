"""JSON at orjson's speed, writing the bytes the stdlib expression it replaced wrote.

What is hashed (the audit chain's row hash) or stored must come out byte for byte as before, or
chains sealed before the change fail to verify. orjson writes the same JSON as the stdlib's
compact, non-ASCII form for str, int, bool, None, lists, tuples and dicts with str keys, and for
every float but those below 1e-4 (9.5e-05 it writes as 0.000095, 1.5e-07 as 1.5e-7). Where it
would write differently the stdlib writes instead:

- an int beyond 64 bits or a key that is not a str: orjson refuses them, the stdlib writes;
- a float below 1e-4: found in orjson's output (a number token written the other way);
- datetimes, dates, times and dataclasses: orjson would write them itself (RFC 3339, an
  object), the stdlib handed them to `default`; so they go to `default` here too.

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
from collections.abc import Callable
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
    return _dumps(value, None, _OPTIONS | orjson.OPT_SORT_KEYS, sort_keys=True)


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """What `json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)
    .encode()` wrote: keys in their order, `default` asked for what JSON has no form of."""
    return _dumps(value, default, _OPTIONS, sort_keys=False)


def _dumps(
    value: Any, default: Callable[[Any], Any] | None, option: int, *, sort_keys: bool
) -> bytes:
    try:
        text = orjson.dumps(value, default=default, option=option)
    except TypeError:  # also what `default` raised: the stdlib then raises it itself
        text = None
    if text is None or _float_unlike_repr(text):
        return json.dumps(
            value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False, default=default
        ).encode()
    return text


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


def dumps_rows(rows: list[dict[str, Any]], default: Callable[[Any], Any] | None = None) -> bytes:
    """Rows as one JSON array for PostgreSQL to read (json(b)_populate_recordset), a Dumped value
    embedded as the JSON it is, not written as a string. Never hashed: what PostgreSQL reads
    from it is the same whichever way a float is written, so orjson's form stands, and the
    stdlib's only writes what orjson refuses (each Dumped value read back for it)."""
    # str(v): orjson takes a Fragment of a plain str or bytes only, a subclass (Dumped) it
    # refuses, and every batch went the slow way (each value read back, the whole written again).
    embedded = [
        {k: orjson.Fragment(str(v)) if type(v) is Dumped else v for k, v in row.items()}
        for row in rows
    ]
    try:
        return orjson.dumps(embedded, default=default, option=_OPTIONS)
    except TypeError:
        pass
    thawed = [{k: loads(v) if type(v) is Dumped else v for k, v in row.items()} for row in rows]
    return dumps(thawed, default)


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
