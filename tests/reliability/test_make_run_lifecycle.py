"""`make run` stops everything it started, even when its launcher is SIGKILLed; a second one
says one is running instead of failing on busy ports; start-up prints what it waits for.

The stack here is its own: its own home folder (database, broker data, lock), its own broker
ports and service ports; the shared servers of the machine are never touched."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from brightline.platform.local.paths import free_port, project_root
from brightline.platform.local.watchdog import alive
from brightline.platform.testing import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def processes_using(home: Path) -> list[int]:
    """Live processes whose command line names the stack's home folder (broker, postmaster)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if str(home).encode() in cmdline and alive(int(entry)):
            found.append(int(entry))
    return found


class Launcher:
    def __init__(self, home: Path, kafka_port: int, *extra: str) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brightline.platform.local.stack",
                "--home",
                str(home),
                "--kafka-port",
                str(kafka_port),
                "--no-demo",
                *extra,
            ],
            cwd=project_root(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)},
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def cpu_groups_of(home: Path) -> list[Path]:
    """The cpu cgroups `make run` weighs its services in, from this home (empty when none)."""
    name = "brightline-run-" + hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]
    tops = [top for top in (Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup")) if top.is_dir()]
    return [group for top in tops for group in top.glob(f"{name}-*")]


@pytest.fixture
def home():
    folder = project_root() / ".local" / "test-stack" / uuid.uuid4().hex[:8]
    folder.mkdir(parents=True)
    yield folder
    for pid in processes_using(folder):  # only if the test failed: leave nothing behind
        os.kill(pid, signal.SIGKILL)
    for group in cpu_groups_of(folder):  # a SIGKILLed launcher's, emptied by its watchdog
        with contextlib.suppress(OSError):
            group.rmdir()
    shutil.rmtree(folder, ignore_errors=True)


async def test_sigkilled_launcher_leaves_no_broker_database_or_service(home, report):
    kafka_port = free_port(span=2)
    service_port_offset = free_port(span=2) - 8001  # intake serves on 8001 + offset
    first = Launcher(
        home, kafka_port, "--services", "intake", "--port-offset", str(service_port_offset)
    )

    # Bounded by the launcher's own progress: it is up, or it has exited.
    async def up_or_gone() -> bool:
        return first.said("Brightline is up") or first.process.poll() is not None

    await eventually(up_or_gone, timeout=600)
    assert first.said("Brightline is up"), first.output
    assert first.said("starting PostgreSQL") and first.said("Kafka ready on"), first.output

    # A second `make run` on the same folder says so, and starts nothing.
    second = Launcher(home, free_port(span=2))
    assert second.process.wait(60) == 1
    second.reader.join(5)
    assert second.said("already running"), second.output
    assert f"launcher pid {first.process.pid}" in second.output

    state = json.loads((home / "run.json").read_text())
    pids = {
        "kafka": state["kafka_pid"],
        "postgres": state["postmaster_pid"],
        "intake": state["services"]["intake"],
        "watchdog": state["watchdog_pid"],
    }
    assert all(alive(pid) for pid in pids.values()), pids
    assert processes_using(home), "the broker and database run with the stack's home folder"
    # intake weighs on the CPU as its pod's request in deploy/k8s, where a cgroup can be made
    assert first.said("CPU weights as"), first.output
    if first.said("CPU weights as the pods' CPU requests"):
        assert first.said("cpu.shares intake 2048"), first.output
        (group,) = cpu_groups_of(home)
        assert str(pids["intake"]) in (group / "cgroup.procs").read_text().split()

    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait()

    async def all_gone() -> bool:
        return not any(alive(pid) for pid in pids.values()) and not processes_using(home)

    await eventually(all_gone, timeout=30)
    report(
        f"make run SIGKILLed: broker (pid {pids['kafka']}), postmaster (pid {pids['postgres']}) "
        f"and intake (pid {pids['intake']}) stopped by the watchdog within 30 s"
    )

    # The lock went with the watchdog: the next `make run` is not told one is running.
    third = Launcher(home, free_port(span=2), "--services", "none", "--exit-when-ready")
    assert third.process.wait(600) == 0, third.output
    third.reader.join(5)
    assert not third.said("already running")
    assert not processes_using(home), "a clean stop leaves nothing either"


async def test_a_closed_terminal_stops_the_stack(home):
    """Closing the terminal sends SIGHUP to the launcher: it stops everything in order, and
    takes its services' CPU groups away."""
    service_port_offset = free_port(span=2) - 8001  # intake serves on 8001 + offset
    launcher = Launcher(
        home, free_port(span=2), "--services", "intake", "--port-offset", str(service_port_offset)
    )

    async def up_or_gone() -> bool:
        return launcher.said("Brightline is up") or launcher.process.poll() is not None

    await eventually(up_or_gone, timeout=600)
    assert launcher.said("Brightline is up"), launcher.output
    state = json.loads((home / "run.json").read_text())
    pids = [state["kafka_pid"], state["postmaster_pid"], state["watchdog_pid"]]
    pids.append(state["services"]["intake"])
    weighed = launcher.said("CPU weights as the pods' CPU requests")
    assert bool(cpu_groups_of(home)) == weighed, launcher.output

    launcher.process.send_signal(signal.SIGHUP)
    assert launcher.process.wait(120) == 0, launcher.output

    async def all_gone() -> bool:
        return not any(alive(pid) for pid in pids) and not processes_using(home)

    await eventually(all_gone, timeout=30)
    assert not (home / "run.json").exists()
    assert not cpu_groups_of(home)
