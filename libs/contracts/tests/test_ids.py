"""New ids start with their time (UUID version 7): an event's, a ticket's, a work order's.
Inserted as B-tree keys (every service's inbox, the tickets and work orders tables) they land
next to each other, not each on a page of its own (tests/bench/inbox_keys.py measures the WAL
that saves)."""

from __future__ import annotations

import time
import uuid

from brightline.contracts.envelope import Event
from brightline.contracts.ids import new_id


def test_a_new_id_is_a_canonical_uuid_of_version_7():
    made = new_id()
    parsed = uuid.UUID(made)
    assert str(parsed) == made and len(made) == 36
    assert parsed.version == 7


def test_later_ids_sort_after_earlier_ones_as_text():
    first = [new_id() for _ in range(1000)]
    time.sleep(0.002)
    later = [new_id() for _ in range(1000)]
    assert max(first) < min(later)
    assert first == sorted(first)  # within one millisecond too: a counter follows the time


def test_an_events_id_is_new_and_time_first():
    a, b = (Event("t", "/s", "k", {}) for _ in range(2))
    assert uuid.UUID(a.id).version == 7 and a.id < b.id
