"""Waits bounded by progress, not by a wall clock sized for a quiet machine.

On a shared, loaded machine a server starts slowly but visibly (its log grows); a hung one does
not. A wait therefore gives up when nothing has moved for a while, however long it has run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class Progress:
    """`stalled()` once `measure()` has not changed for `stall` seconds."""

    def __init__(self, measure: Callable[[], object], *, stall: float) -> None:
        self.measure = measure
        self.stall = stall
        self.last = self._read()
        self.moved_at = time.monotonic()

    def _read(self) -> object:
        try:
            return self.measure()
        except OSError:
            return None

    def stalled(self) -> bool:
        current = self._read()
        if current != self.last:
            self.last, self.moved_at = current, time.monotonic()
        return time.monotonic() - self.moved_at > self.stall


def log_size(path: Path) -> Callable[[], int]:
    return lambda: Path(path).stat().st_size


class Starting(Protocol):
    @property
    def log_path(self) -> Path: ...

    def wait_ready(self, timeout: float) -> None: ...


def wait_ready_by_progress(process: Starting, *, stall: float = 120.0) -> None:
    """Wait for a brightline.platform.testing.ServiceProcess (anything with `wait_ready(timeout)`
    raising TimeoutError and a `log_path`) while its log keeps growing; raise when it exits or
    its log stands still for `stall` seconds."""
    progress = Progress(log_size(process.log_path), stall=stall)
    while True:
        try:
            process.wait_ready(timeout=5)
            return
        except TimeoutError:
            if progress.stalled():
                raise
