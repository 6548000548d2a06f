"""A CPU limit per service process, as a Kubernetes pod's `resources.limits.cpu` sets one: a
cgroup of the kernel's cpu controller per process, with a CFS quota of `cores` per 100 ms.

For the scale-out scenario (`--instance-cpu`): on two shared cores one instance of each service
already keeps the box busy, so a second one has no CPU to add; with every instance held to its
own share, as in a cluster where a replica brings its own cores, the scenario shows whether the
work spreads over instances (shared partitions, sharded relays) or waits on something they all
share. Needs a writable cpu cgroup: cgroup v1's `/sys/fs/cgroup/cpu`, or cgroup v2 with the cpu
controller (root, or a delegated subtree).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

PERIOD_US = 100_000
_V1 = Path("/sys/fs/cgroup/cpu")
_V2 = Path("/sys/fs/cgroup")


def _hierarchy() -> tuple[Path, bool]:
    """The cpu controller's mount and whether it is cgroup v2."""
    if (_V1 / "cpu.cfs_quota_us").exists():
        return _V1, False
    controllers = _V2 / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        return _V2, True
    raise RuntimeError(
        "--instance-cpu needs the kernel's cpu controller: neither /sys/fs/cgroup/cpu "
        "(cgroup v1) nor a cgroup v2 with cpu in cgroup.controllers is there"
    )


class CpuLimits:
    """One cgroup per limited process under `brightline-bench-<run>`; `release` moves the
    processes back to the top and removes the groups."""

    def __init__(self, run: str) -> None:
        self.top, self.v2 = _hierarchy()
        self.root = self.top / f"brightline-bench-{run}"
        try:
            self.root.mkdir(exist_ok=True)
        except OSError as error:
            raise RuntimeError(
                f"--instance-cpu needs to create cgroups under {self.top} (root, or a delegated "
                f"subtree): {error}"
            ) from error
        if self.v2:  # a v2 group's children get the controllers its subtree_control names
            (self.root / "cgroup.subtree_control").write_text("+cpu")
        self.groups: list[Path] = []

    def limit(self, label: str, pid: int, cores: float) -> None:
        group = self.root / label
        group.mkdir(exist_ok=True)
        quota = max(1000, round(cores * PERIOD_US))
        if self.v2:
            (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        else:
            (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota))
        # Every thread of the process moves with it, and threads it starts later are born there.
        (group / "cgroup.procs").write_text(str(pid))
        self.groups.append(group)

    def release(self) -> None:
        for group in reversed(self.groups):
            with contextlib.suppress(OSError):
                for pid in (group / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):  # it may have ended meanwhile
                        (self.top / "cgroup.procs").write_text(pid)
                group.rmdir()
        self.groups = []
        with contextlib.suppress(OSError):
            self.root.rmdir()
