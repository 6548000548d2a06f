"""Ids of new rows and events that start with their time (UUID version 7, RFC 9562).

Every event id becomes the key of an inbox row in each service that handles it, and ticket and
work-order ids the keys of their tables in several services: B-tree keys. A random id (uuid4)
puts every insert on a page of its own somewhere in the tree, and after each checkpoint the
first change to a page writes all of it into the WAL: about 4 KiB of WAL an inbox row against
0.3 KiB for ids that start with their time, which land next to each other at the tree's right
end (tests/bench/inbox_keys.py). The time an id carries is no secret: the event or the ticket
carries it too, and who may read an object is decided by its owner, not by its id being hard
to guess.
"""

from __future__ import annotations

import uuid_utils


def new_id() -> str:
    """A fresh id, its canonical text (36 characters, as uuid4's was): later ids of a process
    sort after earlier ones."""
    return str(uuid_utils.uuid7())
