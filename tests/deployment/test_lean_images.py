"""Lean images and a hardened cluster (issue 22, point 4), checked structurally (no Docker engine
or cluster here): a service's runtime dependencies, resolved from uv.lock, hold none of the
development and local tools; the Dockerfile builds one service per image in two stages from a
pinned base; the k8s base has a NetworkPolicy and a PodDisruptionBudget per service, an Ingress
with TLS for the console and the identity provider, and no floating image tag."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
DEV_ONLY = {"pgserver", "playwright", "psutil", "matplotlib"}


def runtime_closure(package: str) -> set[str]:
    """Every package `package` installs with, from uv.lock (no dev group; extras only where a
    dependency asks for them)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(package, ())]
    while todo:
        name, extras = todo.pop()
        key = f"{name}[{','.join(extras)}]"
        if key in seen:
            continue
        seen.add(key)
        entry = packages[name]
        deps = list(entry.get("dependencies", []))
        for extra in extras:
            deps += entry.get("optional-dependencies", {}).get(extra, [])
        for dep in deps:
            todo.append((dep["name"], tuple(dep.get("extra", ()))))
    return {k.split("[")[0] for k in seen}


def test_no_service_installs_development_or_local_tools():
    for service in SERVICES:
        closure = runtime_closure(f"brightline-{service.replace('_', '-')}")
        assert "brightline-platform" in closure and "sqlalchemy" in closure, service
        assert not closure & DEV_ONLY, (service, closure & DEV_ONLY)
    # make setup still has them: the embedded database, the browser tests, the benchmarks.
    workspace = runtime_closure("brightline")
    assert "pgserver" in workspace


def test_the_image_is_built_per_service_in_two_stages_from_a_pinned_base():
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert len(stages) >= 2
    base = re.search(r"ARG PYTHON_IMAGE=(\S+)", dockerfile).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base
    assert "--package" in dockerfile and "--no-dev" in dockerfile
    assert "COPY --from=build /app/.venv" in dockerfile
    assert "brightline.${SERVICE}" in dockerfile


def base_objects() -> list[dict]:
    objects = []
    for path in sorted((K8S / "base").glob("*.yaml")):
        if path.name != "kustomization.yaml":
            objects += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return objects


def test_every_service_has_a_network_policy_and_a_disruption_budget():
    objects = base_objects()
    for service in SERVICES:
        name = service.replace("_", "-")
        selector = {"app.kubernetes.io/name": name}
        [policy] = [
            o
            for o in objects
            if o["kind"] == "NetworkPolicy"
            and o["spec"]["podSelector"].get("matchLabels") == selector
        ]
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        # The API port, and the metrics port only for the observability namespace's scrapers.
        for rule in policy["spec"]["ingress"]:
            ports = {p["port"] for p in rule["ports"]}
            assert ports in ({8000}, {9464}), (service, ports)
            if ports == {9464}:
                assert rule["from"] == [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "observability"}
                        }
                    }
                ], service
        [budget] = [
            o
            for o in objects
            if o["kind"] == "PodDisruptionBudget"
            and o["spec"]["selector"]["matchLabels"] == selector
        ]
        assert budget["spec"]["maxUnavailable"] == 1
    [deny] = [o for o in objects if o["kind"] == "NetworkPolicy" and o["spec"]["podSelector"] == {}]
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def test_console_and_identity_provider_are_served_over_tls():
    [ingress] = [o for o in base_objects() if o["kind"] == "Ingress"]
    tls_hosts = {h for t in ingress["spec"]["tls"] for h in t["hosts"]}
    backends = {
        rule["host"]: rule["http"]["paths"][0]["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
    }
    assert set(backends.values()) == {"console", "keycloak"}
    assert set(backends) <= tls_hosts
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"


def test_image_tags_are_pinned():
    for path in K8S.rglob("*.yaml"):
        text = path.read_text()
        assert ":latest" not in text and "newTag: latest" not in text, path
        for image in re.findall(r"image:\s*(\S+)", text):
            assert ":" in image, (path, image)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        if "image" in service:
            tag = service["image"].rsplit(":", 1)[-1]
            assert tag != "latest" and re.search(r"\d+\.\d+", tag), (name, service["image"])
