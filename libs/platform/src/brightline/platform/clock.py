"""The one clock of every service: aware UTC time. Code that must be pinned in a test takes the
time as an argument (domain code never reads a clock) or reads it through this module."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
