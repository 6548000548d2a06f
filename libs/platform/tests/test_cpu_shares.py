"""The services' CPU weights on one host, as their pods' CPU requests in deploy/k8s give them."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from brightline.platform.local.cpu_shares import (
    SESSION_SHARES,
    CpuGroups,
    millicores,
    pod_cpu_requests,
    shares,
    v2_weight,
)

SERVICES = ["intake", "dispatch", "sla_monitor", "casework", "callback", "records", "console"]


def test_kubernetes_cpu_quantities_in_millicores():
    assert millicores("400m") == 400
    assert millicores("1") == 1000
    assert millicores(0.5) == 500
    assert millicores("1.5") == 1500


def test_the_requests_come_from_each_services_own_container_in_the_manifests():
    requests = pod_cpu_requests(SERVICES)
    assert set(requests) == set(SERVICES)
    # intake's serve container, not its migrate init container (50m)
    assert requests["intake"] == 200
    assert requests["dispatch"] == 200
    assert all(requests[s] == 100 for s in SERVICES if s not in ("intake", "dispatch"))


def test_a_service_at_the_median_request_weighs_a_session_the_others_in_proportion():
    weights = shares(pod_cpu_requests(SERVICES))
    assert weights["records"] == SESSION_SHARES
    assert weights["dispatch"] == 2 * SESSION_SHARES
    assert weights["intake"] == 2 * SESSION_SHARES
    assert shares({"a": 50, "b": 100, "c": 100}) == {"a": 512, "b": 1024, "c": 1024}


def test_v2_weights_keep_the_v1_proportions_around_a_nice_0_task():
    assert v2_weight(SESSION_SHARES) == 100
    assert v2_weight(4 * SESSION_SHARES) == 400
    assert v2_weight(2) == 1
    assert v2_weight(10**9) == 10_000


def test_a_missing_container_is_named(tmp_path: Path):
    base = tmp_path / "deploy" / "k8s" / "base"
    base.mkdir(parents=True)
    (base / "intake.yaml").write_text(
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "      - name: other\n        resources: {requests: {cpu: 1}}\n"
    )
    with pytest.raises(ValueError, match="no container intake"):
        pod_cpu_requests(["intake"], tmp_path)


def _groups() -> CpuGroups:
    try:
        return CpuGroups(f"test-{uuid.uuid4().hex[:8]}")
    except (OSError, RuntimeError) as error:
        pytest.skip(f"no writable cpu cgroup here: {error}")


def test_a_process_lands_in_its_group_with_its_weight_and_leaves_it_on_release():
    groups = _groups()
    process = subprocess.Popen(["sleep", "30"])
    try:
        try:
            groups.share("intake", process.pid, 4096)
        except OSError as error:
            pytest.skip(f"no writable cpu cgroup here: {error}")
        group = groups.groups["intake"]
        assert str(process.pid) in (group / "cgroup.procs").read_text().split()
        weight = group / ("cpu.weight" if groups.v2 else "cpu.shares")
        assert weight.read_text().strip() == str(v2_weight(4096) if groups.v2 else 4096)
        assert group.name in Path(f"/proc/{process.pid}/cgroup").read_text()
        groups.release()
        assert not group.exists()
        assert group.name not in Path(f"/proc/{process.pid}/cgroup").read_text()
    finally:
        groups.release()
        process.kill()
        process.wait()
