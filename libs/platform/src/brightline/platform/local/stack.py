"""`make run`: the whole call centre on this machine, without Docker.

Embedded PostgreSQL, a local Kafka broker and Keycloak (the identity provider, with the realm of
deploy/keycloak and, unless --no-demo, the demo users and clients), then every service as its own process
(`python -m brightline.<service> serve`), each waited on until /readyz answers, then the demo
data and traffic simulator if the console ships them. Ctrl-C stops everything in reverse.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import threading
import time

import httpx

from brightline.platform.local.kafka import LocalKafka
from brightline.platform.local.keycloak import LocalKeycloak
from brightline.platform.local.paths import project_root
from brightline.platform.local.postgres import LocalPostgres

# Start order matters only for readability of the log; every service waits for its own inputs.
SERVICES = {
    "intake": 8001,
    "dispatch": 8002,
    "casework": 8003,
    "callback": 8004,
    "sla_monitor": 8005,
    "console": 8000,
}


def wait_ready(name: str, port: int, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}; see .local/logs/{name}.log"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{name} not ready after {timeout}s; see .local/logs/{name}.log")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m brightline.platform.local.stack")
    parser.add_argument(
        "--kafka-port", type=int, default=int(os.environ.get("BRIGHTLINE_KAFKA_PORT", 9092))
    )
    parser.add_argument(
        "--keycloak-port",
        type=int,
        default=int(os.environ.get("BRIGHTLINE_KEYCLOAK_PORT", 8080)),
    )
    parser.add_argument(
        "--no-demo", action="store_true", help="no demo data, users or clients; no simulator"
    )
    parser.add_argument(
        "--exit-when-ready", action="store_true", help="start, check, stop (for tests)"
    )
    args = parser.parse_args()

    root = project_root()
    logs = root / ".local" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    postgres = LocalPostgres(root / ".local" / "pgdata")
    kafka = LocalKafka(
        root / ".local" / "kafka", port=args.kafka_port, controller_port=args.kafka_port + 1
    )
    print("starting PostgreSQL (embedded) ...", flush=True)
    database_url = postgres.start()
    print(f"  {postgres.version}", flush=True)
    print(f"starting Kafka {kafka.version} (KRaft) on 127.0.0.1:{args.kafka_port} ...", flush=True)
    bootstrap = kafka.start()
    keycloak_dir = root / ".local" / "keycloak"
    keycloak_dir.mkdir(parents=True, exist_ok=True)
    admin_file = keycloak_dir / "admin-password"
    if not admin_file.exists():
        admin_file.write_text(secrets.token_urlsafe(18))
        admin_file.chmod(0o600)
    keycloak = LocalKeycloak(
        keycloak_dir,
        port=args.keycloak_port,
        database="dev-file",
        admin_password=admin_file.read_text().strip(),
    )
    print(f"starting Keycloak {keycloak.version} on 127.0.0.1:{args.keycloak_port} ...", flush=True)
    issuer = keycloak.start()
    admin = keycloak.admin()
    if not args.no_demo:
        admin.partial_import(root / "deploy" / "keycloak" / "demo-brightline.json")
    console_secret = secrets.token_urlsafe(32)
    admin.configure_client("brightline-console", secret=console_secret)
    print(
        f"  issuer {issuer}  (admin console {keycloak.url}/admin, user admin, password in "
        f"{admin_file})",
        flush=True,
    )
    env = {
        **os.environ,
        "BRIGHTLINE_ENV": "development",
        "BRIGHTLINE_OIDC_ISSUER": issuer,
        "CONSOLE_OIDC_CLIENT_SECRET": console_secret,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "LOG_JSON": "true",
    }

    processes: dict[str, subprocess.Popen] = {}

    def stop_all() -> None:
        for process in reversed(list(processes.values())):
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        keycloak.stop()
        kafka.stop()
        postgres.stop()

    try:
        for name, port in SERVICES.items():
            log = open(logs / f"{name}.log", "ab")
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"brightline.{name}", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for name, port in SERVICES.items():
            wait_ready(name, port, processes[name])
            print(f"  {name:<12} ready  http://127.0.0.1:{port}   (API docs: /docs)", flush=True)
        if not args.no_demo and importlib.util.find_spec("brightline.console.demo"):
            demo = open(logs / "demo.log", "ab")
            processes["demo"] = subprocess.Popen(
                [sys.executable, "-m", "brightline.console.demo"],
                env=env,
                stdout=demo,
                stderr=subprocess.STDOUT,
            )
            print(
                "  demo data and traffic simulator running (make run NO_DEMO=1 to switch off)",
                flush=True,
            )
        print(
            f"\nBrightline is up. Console: http://127.0.0.1:{SERVICES['console']}  "
            + (
                "(demo users agent-1001 … super-9001, password brightline-demo)  "
                if not args.no_demo
                else ""
            )
            + f"Logs: {logs}  Stop: Ctrl-C",
            flush=True,
        )
        if args.exit_when_ready:
            return
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        stopped.wait()
    finally:
        print("stopping ...", flush=True)
        stop_all()


if __name__ == "__main__":
    main()
