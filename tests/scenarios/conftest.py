"""The whole call centre for scenario tests: every service of the checkout as its own OS
process, on the session's real broker and database, each with a fresh database of its own.

A scenario test talks to it through public APIs only (REST with bearer tokens from
`brightline.platform.testing.bearer`), as an agent, a crew, a supervisor or another utility
system would. Services found at run time, so a new service joins every scenario by itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx
import pytest

from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.testing import ServiceProcess, service_names, settings_class

pytestmark = pytest.mark.e2e


@dataclass
class Stack:
    """Running services by name; `url(name)` for their base URL, `env` as they were given it."""

    processes: dict[str, ServiceProcess]
    env: dict[str, str] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.processes[name].url

    def http(self, **kwargs) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=kwargs.pop("timeout", 30), **kwargs)

    def logs(self) -> str:
        return "\n".join(f"--- {n} ---\n{p.log_tail()}" for n, p in self.processes.items())


def stack_env(
    kafka_bootstrap: str, postgres_server: str, topic_prefix: str, oidc_issuer: str
) -> dict[str, str]:
    """Shared settings plus one fresh database per service (`<PREFIX>DATABASE_NAME`)."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": postgres_server,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "BRIGHTLINE_ENV": "development",
        "BRIGHTLINE_OIDC_ISSUER": oidc_issuer,
    }
    run = uuid.uuid4().hex[:6]
    for name in service_names():
        prefix = settings_class(name).model_config.get("env_prefix", "")
        env[f"{prefix}DATABASE_NAME"] = f"scn_{name}_{run}"
    return env


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_server, topic_prefix, oidc_issuer, tmp_path_factory):
    env = stack_env(kafka_bootstrap, postgres_server, topic_prefix, oidc_issuer)
    log_dir = tmp_path_factory.mktemp("scenario-logs")
    ports = {name: free_port() for name in service_names()}
    # The console's backend-for-frontend finds the others where this stack put them.
    for name, port in ports.items():
        key = "SLA_URL" if name == "sla_monitor" else f"{name.upper()}_URL"
        env[f"CONSOLE_{key}"] = f"http://127.0.0.1:{port}"
    processes = {name: ServiceProcess(name, port, env, log_dir) for name, port in ports.items()}
    for process in processes.values():
        process.start()
    try:
        for process in processes.values():
            wait_ready_by_progress(process)  # a busy machine is slow, not stuck
        yield Stack(processes, env)
    finally:
        for process in processes.values():
            process.stop()
