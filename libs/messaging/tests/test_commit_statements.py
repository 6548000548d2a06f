"""What a commit of a consumer's batch costs in Python: the riding INSERTs are built once (a
batch's many outbox or audit rows travel as one JSON parameter of a cached statement; a
multi-row VALUES has no cache key, SQLAlchemy compiled one on every batch commit), and the audit
masking decides once per key name, not once per key of every row."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from brightline.messaging.audit import audit_trail
from brightline.messaging.schema import outbox
from brightline.messaging.unit_of_work import _insert


def rows(n: int) -> list[dict]:
    at = datetime(2026, 12, 1, 9, n, tzinfo=UTC)
    return [
        {
            "at": at,
            "kind": "event",
            "actor": "event:/brightline/test",
            "action": "brightline.test.v1",
            "subject": f"s-{i}",
            "ticket_id": None,
            "trace_id": None,
            "changes": [{"table": "t", "op": "insert", "count": 1, "after": [{"x": i}]}],
            "detail": {"event_id": f"e-{i}", "events": []},
        }
        for i in range(n)
    ]


def test_a_batch_of_rows_is_one_cached_statement_whatever_its_size():
    keys = set()
    for n in (2, 3, 7):
        params: dict = {}
        insert, cte = _insert(audit_trail, rows(n), params)
        key = insert._generate_cache_key()
        assert key is not None and cte._generate_cache_key() is not None
        keys.add(key.key)
        [value] = params.values()
        sent = json.loads(value)
        assert [r["subject"] for r in sent] == [f"s-{i}" for i in range(n)]  # in order
        assert sent[0]["at"] == datetime(2026, 12, 1, 9, n, tzinfo=UTC).isoformat()
    assert len(keys) == 1
    assert _insert(outbox, [{"event_id": "a"}, {"event_id": "b"}], {})[0] is not None


def test_how_a_key_is_masked_is_decided_once_per_name():
    from brightline.messaging.audit import _mask, _rule

    row = {"caller_name": "钱七", "phone": "13800138000", "pin_hash": "x", "unit_name": "南开"}
    row["data"] = {"address": "建设路1号", "contact_phone": None, "count": 3}
    first = _mask(row)
    before = _rule.cache_info()
    assert _mask(row) == first
    after = _rule.cache_info()
    assert after.hits - before.hits == 8 and after.misses == before.misses
    assert first["pin_hash"] == "***" and first["unit_name"] == "南开"
    assert first["caller_name"] == "钱*" and first["phone"] != "13800138000"
    assert first["data"] == {"address": "建****", "contact_phone": None, "count": 3}
