"""The watchdog of `make run`: stops everything the launcher started when the launcher dies.

The launcher (brightline.platform.local.stack) can die in ways it cannot clean up after:
SIGKILL, an out-of-memory kill, a closed terminal while it is stuck. Its children would then
run on as orphans: the Kafka broker in its own session, pgserver's postmaster (detached by
pg_ctl from the start) and every service holding its port.

So the launcher's first act is to start this process in a session of its own, with the read
end of a pipe as stdin; the launcher keeps the only write end. It tells the watchdog what it
starts, one line each:

    group <pgid>      a process group to stop (SIGTERM, then SIGKILL after a grace period)
    postgres <dir>    a PostgreSQL data directory whose postmaster to stop (fast shutdown)
    done              the launcher stopped everything itself: exit without doing anything

The kernel closes the pipe when the launcher dies for any reason; on end-of-file without
"done" the watchdog stops the groups in reverse order of registration, then the database.
It also inherits the launcher's run lock (brightline.platform.local.stack), so a second
`make run` sees the stack as running until the watchdog has finished cleaning up.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

GRACE_SECONDS = 10.0


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) from /proc, or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie lingers where PID 1 does not reap)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def group_alive(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) and stat[1] == pgid:
            if stat[0] not in ("Z", "X"):
                return True
    return False


def wait_until(predicate: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def stop_groups(pgids: list[int], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to every group at once, SIGKILL to what still runs after the grace period."""
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    wait_until(lambda: not any(group_alive(pgid) for pgid in pgids), grace)
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((Path(data_dir) / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop_postgres(data_dir: Path, grace: float = GRACE_SECONDS) -> None:
    """SIGINT is PostgreSQL's fast shutdown (what `pg_ctl -m fast stop` sends); SIGQUIT its
    immediate shutdown if the fast one hangs."""
    pid = postmaster_pid(data_dir)
    if pid is None or not alive(pid):
        return
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: not alive(pid), grace):
            return


def main() -> None:
    # Ctrl-C and a closed terminal reach the launcher's group, never this session.
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    groups: list[int] = []
    databases: list[Path] = []
    for line in sys.stdin:
        what, _, value = line.strip().partition(" ")
        if what == "group":
            groups.append(int(value))
        elif what == "postgres":
            databases.append(Path(value))
        elif what == "done":
            return
    # End of file without "done": the launcher died. Stop what it left.
    stop_groups(groups)
    for data_dir in databases:
        stop_postgres(data_dir)


if __name__ == "__main__":
    main()
