"""Each service's share of a host's CPU, as its pod's CPU request gives it one in Kubernetes.

On a node, the kubelet turns a container's `resources.requests.cpu` into its cgroup's CPU weight:
when the cores are all busy, each gets CPU in proportion to what it requested. Run on one host
without that (`make bench` on two cores), every service is a session of its own and the kernel
weighs each session alike (autogroups): intake, which answers an agent on a call and costs ~3x the
CPU per ticket of the busiest consumer, waited as long for a core as the callback service did.

The requests are read from the manifests (deploy/k8s/base/<service>.yaml, the service's own
container), so the weights on one host and in a cluster have one source. A service at the
median request weighs what a session does (1024, a nice-0 task's), so against PostgreSQL and
the broker on the same host (sessions of their own) it stands as before; the others weigh in
proportion to what they request.
"""

from __future__ import annotations

import contextlib
import statistics
from pathlib import Path

import yaml

from brightline.platform.local.paths import project_root

# A nice-0 task's (and a session's) weight: cgroup v1's cpu.shares default.
SESSION_SHARES = 1024
_V1 = Path("/sys/fs/cgroup/cpu")
_V2 = Path("/sys/fs/cgroup")


def millicores(quantity: str | int | float) -> int:
    """A Kubernetes CPU quantity ("250m", "1", 0.5) in millicores."""
    text = str(quantity).strip()
    if text.endswith("m"):
        return int(text[:-1])
    return round(float(text) * 1000)


def pod_cpu_requests(services: list[str], root: Path | None = None) -> dict[str, int]:
    """Each service's container's CPU request in millicores, from deploy/k8s/base (file and
    container named as the service, with - for _)."""
    base = (root or project_root()) / "deploy" / "k8s" / "base"
    requests = {}
    for service in services:
        name = service.replace("_", "-")
        for doc in yaml.safe_load_all((base / f"{name}.yaml").read_text()):
            if not doc or doc.get("kind") != "Deployment":
                continue
            for container in doc["spec"]["template"]["spec"]["containers"]:
                if container["name"] == name:
                    requests[service] = millicores(container["resources"]["requests"]["cpu"])
        if service not in requests:
            raise ValueError(f"deploy/k8s/base/{name}.yaml: no container {name} with a CPU request")
    return requests


def shares(requests: dict[str, int]) -> dict[str, int]:
    """cgroup v1 cpu.shares per service: a session's at the median request, the others in
    proportion to theirs."""
    median = statistics.median(requests.values())
    return {s: max(2, round(SESSION_SHARES * r / median)) for s, r in requests.items()}


def v2_weight(cpu_shares: int) -> int:
    """cgroup v2's cpu.weight for v1 shares (100 is a nice-0 task's there, as 1024 is in v1)."""
    return min(10_000, max(1, round(100 * cpu_shares / SESSION_SHARES)))


def _hierarchy() -> tuple[Path, bool] | None:
    """The cpu controller's mount and whether it is cgroup v2, if there is one."""
    if (_V1 / "cpu.shares").exists():
        return _V1, False
    controllers = _V2 / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        return _V2, True
    return None


class CpuGroups:
    """A cgroup per service process, `brightline-<name>-<label>` beside the sessions at the
    top (where PostgreSQL's and the broker's are): its weight as its pod's request sets one
    (`share`), and optionally a CFS quota as its pod's limit does (`limit`). `release` moves
    the processes back to the top and removes the groups.

    Raises OSError (or RuntimeError without a cpu controller) when the groups cannot be made:
    root, or a delegated subtree, is needed."""

    PERIOD_US = 100_000

    def __init__(self, name: str) -> None:
        found = _hierarchy()
        if found is None:
            raise RuntimeError(
                "no cpu controller: neither /sys/fs/cgroup/cpu (cgroup v1) nor a cgroup v2 with "
                "cpu in cgroup.controllers"
            )
        self.top, self.v2 = found
        self.name = name
        if self.v2:  # a v2 group's children get the controllers its subtree_control names
            (self.top / "cgroup.subtree_control").write_text("+cpu")
        self.groups: dict[str, Path] = {}

    def _group(self, label: str, pid: int) -> Path:
        group = self.top / f"brightline-{self.name}-{label}"
        group.mkdir(exist_ok=True)
        # Every thread of the process moves with it, and threads it starts later are born there.
        (group / "cgroup.procs").write_text(str(pid))
        self.groups[label] = group
        return group

    def _weigh(self, group: Path, cpu_shares: int) -> None:
        if self.v2:
            (group / "cpu.weight").write_text(str(v2_weight(cpu_shares)))
        else:
            (group / "cpu.shares").write_text(str(cpu_shares))

    def share(self, label: str, pid: int, cpu_shares: int) -> None:
        self._weigh(self._group(label, pid), cpu_shares)

    def limit(self, label: str, pid: int, cores: float | None) -> None:
        """Hold the process to `cores` per period (None: no quota again)."""
        group = self._group(label, pid)
        quota = "max" if cores is None else str(max(1000, round(cores * self.PERIOD_US)))
        if self.v2:
            (group / "cpu.max").write_text(f"{quota} {self.PERIOD_US}")
        else:
            (group / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text("-1" if quota == "max" else quota)

    def remove(self, label: str) -> None:
        """The group of a process gone (or going on as a session again): removed."""
        group = self.groups.pop(label, None)
        if group is not None:
            with contextlib.suppress(OSError):
                for pid in (group / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):  # it may have ended meanwhile
                        (self.top / "cgroup.procs").write_text(pid)
                group.rmdir()

    def release(self) -> None:
        for label in reversed(list(self.groups)):
            self.remove(label)


def weigh_as_pods(
    pids: dict[str, int], name: str, services: list[str] | None = None, root: Path | None = None
) -> tuple[CpuGroups | None, dict[str, int], str]:
    """Each service process weighed on the host's CPU as its pod's CPU request in deploy/k8s,
    the median taken over `services` (default: those in `pids`); left to the kernel's sessions
    when no cpu cgroup can be made here, none half weighed. The groups (None when left), the
    shares and a note saying which."""
    wanted = shares(pod_cpu_requests(services or list(pids), root))
    try:
        groups = CpuGroups(name)
    except (OSError, RuntimeError) as error:
        return None, {}, f"as sessions, alike (no cpu cgroup here: {error})"
    try:
        for service, pid in pids.items():
            groups.share(service, pid, wanted[service])
    except OSError as error:
        groups.release()
        return None, {}, f"as sessions, alike (a cpu cgroup refused a process: {error})"
    weighed = {service: wanted[service] for service in pids}
    return (
        groups,
        weighed,
        "as the pods' CPU requests (deploy/k8s), cpu.shares "
        + ", ".join(f"{n} {v}" for n, v in weighed.items()),
    )
