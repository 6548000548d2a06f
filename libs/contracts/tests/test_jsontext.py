"""brightline.contracts.jsontext: the canonical form (hashed by rows sealed before v3) writes the
bytes the stdlib wrote; every other text reads back as the stdlib's text read back."""

from __future__ import annotations

import enum
import json
import math
import random
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pytest

from brightline.contracts import jsontext


class Status(enum.StrEnum):
    OPEN = "open"


class Level(enum.IntEnum):
    HIGH = 3


@dataclass
class Point:
    x: int


CHINA = timezone(timedelta(hours=8))
FLOATS = [0.1, 1e16, -0.0, 0.0, 1e-05, 9.5e-05, 1e-4, 1.5e-07, 5e-324, 1.7976931348623157e308]
FLOATS += [123.456, 1e22, 1e15, 2.5, -1e-10, 1 / 3, 4e-320]
INTS = [0, -1, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30]
TEXTS = [
    "",
    "工单 北京市海淀区中关村大街1号",
    "😀 emoji",
    "\x00\x1f\x7f\u2028\u2029",
    '"\\/\b\f\n\r\t',
]
TEXTS += ["a:0.00001", "[1e-5,", "4e-5", "9223372036854775808", "\uffff"]
# JSON values as JSONB gives them back: what the row hash reads.
JSON_VALUES: list[Any] = [
    *FLOATS,
    *INTS,
    *TEXTS,
    None,
    True,
    False,
    [],
    {},
    {"b": {"z": 1, "a": [3, {"y": None, "x": 0.1}]}, "a": "工单", "é": 1, "😀": 2, "B": 3},
    {"changes": [{"table": "tickets", "rows": [{"id": "T-1", "amount": 1e-05}]}]},
    {"big": 10**30, "small": 5e-324, "mixed": [1, 1.5, "2", None, True]},
    {"deep": [[[[{"k": [9.5e-05]}]]]]},
    {"至": "甲", "甲": "至", "a": "b"},
    # A float to rewrite after text that looks like one: a UUID's "e-", a string ending "e-5]".
    {"id": "0b5c3f1e-7d2a-4e9b-8f6e-1a2b3c4d5e6f", "note": "1e-5]", "v": 1.5e-07},
    ["0.00001}", "x:1e-5,", 2.5e-05],
    ["0b5c3f1e-7d2a", "1e-5]", 0.25],
]
# What the callers hand over beyond JSON: the audit trail's captured rows and details, the
# riding rows of a unit of work, records' and sla_monitor's batches.
NOT_JSON: list[Any] = [
    datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
    datetime(2026, 12, 1, 8, 30, 0, 123456, tzinfo=CHINA),
    datetime(2026, 12, 1, 8, 30, 5),
    date(2026, 12, 1),
    time(8, 30, 0, 5),
    Decimal("1.10"),
    Decimal("1e-7"),
    Decimal("123456789012345678901234567890.5"),
    Status.OPEN,
    Level.HIGH,
    (1, "a", None),
    {1: "int key", 2: "b"},
    {True: 1, None: 2, 1.5: 3},
    {3, 1, 2},
    b"bytes",
    Point(1),
    {"at": datetime(2026, 1, 1, tzinfo=UTC), "b": [datetime(2026, 1, 1, 8, 0, 0, 5)]},
    [{"recorded_at": datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=CHINA), "ticket_id": "工单-1"}],
    [{"at": datetime(2026, 1, 1, tzinfo=UTC), "data": {"ticket_id": "T-1", "n": 1e-05}}],
    {"row": {"due": date(2026, 1, 2), "fee": Decimal("3.5")}},
]
# default=str writes a UUID as str(); orjson writes it so itself. (datetime.isoformat refused
# one, where orjson writes it: see the module's note.)
UUIDS: list[Any] = [
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    {"row": {"id": uuid.UUID(int=7), "at": datetime(2026, 1, 2, tzinfo=UTC)}},
]


def _random_floats(count: int) -> list[float]:
    rng = random.Random(21)
    floats = []
    while len(floats) < count:
        bits = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        scaled = 10 ** rng.uniform(-12, 20) * rng.choice((1, -1))
        floats += [f for f in (bits, scaled) if math.isfinite(f)]
    return floats


def _same(new: Any, old: Any) -> None:
    """new() gives what old() gave, or raises what old() raised."""
    try:
        expected = old()
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error)):
            new()
        return
    # repr: -0.0 is not 0.0, nor 1 1.0, though == says they are.
    assert repr(new()) == repr(expected)


@pytest.mark.parametrize("value", JSON_VALUES, ids=repr)
def test_the_canonical_form_is_the_stdlib_sorted_compact_form(value):
    _same(
        lambda: jsontext.canonical(value),
        lambda: json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode(),
    )


def test_the_canonical_form_writes_every_float_as_python_does():
    floats = _random_floats(20_000)
    for value in (*floats, floats, {"k": floats}):
        assert (
            jsontext.canonical(value)
            == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        )


@pytest.mark.parametrize("value", [*JSON_VALUES, *NOT_JSON, *UUIDS], ids=repr)
def test_what_the_audit_trail_stores_reads_back_as_the_stdlib_round_trip(value):
    # audit._json (the text a JSON column is given, once, and hashed as it lies)
    _same(
        lambda: jsontext.loads(jsontext.dumps(value, default=str)),
        lambda: json.loads(json.dumps(value, default=str, ensure_ascii=False)),
    )


def _isoformat(value: Any) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@pytest.mark.parametrize("value", [*JSON_VALUES, *NOT_JSON, *UUIDS], ids=repr)
def test_rows_are_read_as_the_stdlib_wrote_them_with_times_as_isoformat(value):
    # unit_of_work._insert, the repositories' batches: what PostgreSQL reads.
    rows = [{"v": value}]
    _same(
        lambda: jsontext.loads(jsontext.dumps_rows(rows)),
        lambda: json.loads(
            json.dumps(
                rows,
                ensure_ascii=False,
                default=lambda v: str(v) if isinstance(v, uuid.UUID) else _isoformat(v),
            )
        ),
    )


def test_a_small_float_is_written_as_orjson_writes_it_and_reads_back_the_same():
    floats = _random_floats(20_000)
    assert jsontext.loads(jsontext.dumps(floats)) == floats
    assert jsontext.loads(jsontext.dumps_rows([{"v": f} for f in floats])) == [
        {"v": f} for f in floats
    ]
    assert jsontext.dumps([1.5e-07]) == b"[1.5e-7]"  # the stdlib: 1.5e-07


TEXTS_TO_READ = [
    '{"a": 1, "b": [1.5, "工单", null, true, false]}',
    '{"a":1,"b":2,"a":3}',
    "123456789012345678901234567890",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "[9223372036854775807, -9223372036854775808]",
    '{"n": 100000000000000000000000000000.5}',
    "1E400",
    "NaN",
    "[Infinity, -Infinity]",
    '"\\ud800"',
    '"\\ud83d\\ude00"',
    '"\\u5de5\\u5355"',
    "-0",
    "-0.0",
    "1e-05",
    "0.1000000000000000055511151231257827",
    ' \t\n{"x": {}}\r\n',
    "\ufeff[1]",
]


@pytest.mark.parametrize("text", TEXTS_TO_READ)
def test_a_text_reads_as_the_stdlib_reads_it(text):
    for given in (text, text.encode("utf-8", "surrogatepass")):
        _same(lambda given=given: jsontext.loads(given), lambda given=given: json.loads(given))


@pytest.mark.parametrize("text", ["", "{", "not json", "[1,]", b"\xff"])
def test_what_is_not_json_is_refused_as_before(text):
    with pytest.raises(ValueError):
        jsontext.loads(text)


def test_what_the_services_write_is_written_by_orjson_not_the_stdlib(monkeypatch):
    # The stdlib only where orjson would write otherwise: ids and times in strings that hold
    # "e-" or "0.0000" are no floats.
    row = {
        "ticket_id": "0b5c3f1e-7d2a-4e9b-8f6e-1a2b3c4d5e6f",
        "event_id": "e-0.00001",
        "at": "2026-12-01T08:30:00.123456+00:00",
        "address": "北京市海淀区",
        "lat": 39.98,
        "n": 0.0001,
        "count": 2**63,
    }
    writes = []
    monkeypatch.setattr(jsontext.json, "dumps", lambda *a, **k: writes.append(a))
    jsontext.canonical({"changes": [row], "detail": {"rows": [row]}})
    jsontext.dumps_rows([row, {**row, "at": datetime(2026, 1, 1, tzinfo=UTC)}])
    jsontext.dumps([datetime(2026, 1, 1, tzinfo=UTC), uuid.UUID(int=14), 1e-05], default=str)
    assert writes == []


@pytest.mark.parametrize("value", [*JSON_VALUES, *NOT_JSON], ids=repr)
def test_rows_embed_what_was_dumped_already_as_json_not_as_a_string(value):
    # unit_of_work._insert: a batch's audit rows, their JSON columns written once (Dumped).
    dumped = jsontext.Dumped.of(value, default=str)
    at = datetime(2026, 12, 4, 1, 2, 3, tzinfo=UTC)
    rows = [{"seq": 1, "at": at, "changes": dumped}, {"seq": 2, "at": at, "changes": dumped}]
    read = jsontext.loads(jsontext.dumps_rows(rows))
    expected = jsontext.loads(dumped)
    assert [r["changes"] for r in read] == [expected, expected]
    assert read[0]["at"] == at.isoformat()


def test_rows_embed_what_was_dumped_without_reading_it_back(monkeypatch):
    """A batch's rows (every consumer's batch of audit, inbox and outbox rows) go through orjson
    once, each Dumped value embedded as it is. orjson took no Fragment of a str subclass, so
    every batch fell back: each value read back and the whole written again, float check and
    all."""
    dumped = jsontext.Dumped.of({"table": "timeline", "after": [{"n": 1, "至": "故障"}]})
    rows = [{"seq": n, "at": datetime(2026, 12, 5, tzinfo=UTC), "changes": dumped} for n in (1, 2)]

    def never(*_):
        raise AssertionError("read back: the slow way")

    monkeypatch.setattr(jsontext, "loads", never)
    monkeypatch.setattr(jsontext, "dumps", never)
    written = jsontext.dumps_rows(rows)
    assert orjson.loads(written) == [
        {"seq": n, "at": "2026-12-05T00:00:00+00:00", "changes": orjson.loads(str(dumped))}
        for n in (1, 2)
    ]


def test_rows_orjson_refuses_are_written_the_stdlib_way_with_what_was_dumped_read_back():
    dumped = jsontext.Dumped.of({"n": 2**70})
    rows = [{"big": 2**70, "changes": dumped}]
    assert jsontext.loads(jsontext.dumps_rows(rows)) == [{"big": 2**70, "changes": {"n": 2**70}}]
