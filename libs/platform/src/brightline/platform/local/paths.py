"""Where the project's own folders are: the checkout root, its caches and its local data."""

import contextlib
import os
import subprocess
from pathlib import Path


def project_root() -> Path:
    """The checkout that holds deploy/kafka/pom.xml.

    BRIGHTLINE_HOME wins; otherwise walk up from the working directory, then from this file
    (an editable install lives inside the checkout).
    """
    if home := os.environ.get("BRIGHTLINE_HOME"):
        return Path(home).resolve()
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            if (folder / "deploy" / "kafka" / "pom.xml").is_file():
                return folder
    raise FileNotFoundError(
        "cannot find the Brightline checkout (deploy/kafka/pom.xml); set BRIGHTLINE_HOME"
    )


# Ports handed out by this process: never twice, though the first may not be listening yet.
_HANDED_OUT: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for the source ports of outgoing connections (Linux's default)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(span: int = 1) -> int:
    """A port free now, for a server started soon after (a broker, a service process), with
    the span - 1 ports after it free too (a broker's controller listens on the next one). Chosen
    below the kernel's ephemeral range: a port from that range (what binding port 0 gives) may
    meanwhile become the source port of any outgoing connection (a Kafka client's, a pool's),
    and the server then fails with "address already in use", as a service process of a CI run
    did. Never the same port twice in one process."""
    import random
    import socket

    low, _ = _ephemeral_range()
    first, last = _share((10000, low - span), span) if low > 12000 else (1024, 0)
    for _ in range(100 if first <= last else 0):
        port = random.randint(first, last)
        ports = range(port, port + span)
        if _HANDED_OUT.intersection(ports):
            continue
        with contextlib.ExitStack() as bound:
            try:
                for each in ports:
                    bound.enter_context(socket.socket()).bind(("127.0.0.1", each))
            except OSError:
                continue
        _HANDED_OUT.update(ports)
        return port
    with socket.socket() as sock:  # no room below the range: the kernel's choice (one port)
        sock.bind(("127.0.0.1", 0))
        chosen: int = sock.getsockname()[1]
        _HANDED_OUT.add(chosen)
        return chosen


def _share(ports: tuple[int, int], span: int) -> tuple[int, int]:
    """This process's part of the range when BRIGHTLINE_PORT_SHARE ("k/n", 0 <= k < n) names
    one: processes choosing ports at the same time (the test suite's pytest-xdist workers, see
    conftest.py) then never hand out one port twice in the seconds before its server binds it.
    Spans stay inside their part."""
    first, last = ports
    try:
        share, parts = (int(n) for n in os.environ["BRIGHTLINE_PORT_SHARE"].split("/"))
    except (KeyError, ValueError):
        return first, last
    if not 0 <= share < parts:
        return first, last
    size = (last + span - first) // parts
    return first + share * size, first + (share + 1) * size - span


def remove_in_background(folder: Path) -> None:
    """Remove `folder` (a stopped server's throwaway data) without waiting: renamed aside at
    once, then deleted by an `rm -rf` of its own. A test session's database folder holds every
    database its tests made, a few hundred files each: unlinking them one by one took 5 s after
    335 tests and about 30 s after the whole suite, all of it spent waiting at the session's end."""
    folder = Path(folder)
    if not folder.exists():
        return
    aside = folder.with_name(f".{folder.name}.removing")
    try:
        folder.rename(aside)
    except OSError:
        aside = folder
    subprocess.Popen(  # noqa: S603 - a fixed command on our own folder
        ["rm", "-rf", "--", str(aside)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
