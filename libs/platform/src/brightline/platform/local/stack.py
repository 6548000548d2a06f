"""`make run`: the whole call centre on this machine, without Docker.

Embedded PostgreSQL, a local Kafka broker and Keycloak (the identity provider, with the realm of
deploy/keycloak and, unless --no-demo, the demo users and clients), then every service as its own process
(`python -m brightline.<service> serve`), each waited on until /readyz answers, then the demo
data and traffic simulator if the console ships them. Ctrl-C (or SIGTERM, or closing the
terminal) stops everything in reverse.

Nothing outlives the launcher, however it ends:
- every child runs in a process group of its own, registered with the watchdog
  (brightline.platform.local.watchdog) before it is waited on; pgserver's postmaster, which
  pg_ctl detaches, is registered by its data directory. When the launcher dies without
  stopping them (SIGKILL, say), the watchdog sees its pipe close and stops them all.
- one stack per data folder: the launcher holds an exclusive lock on `<home>/run.lock` (the
  watchdog inherits it until it has cleaned up), and a second `make run` says where the
  running one is instead of failing on busy ports.
- start-up says what it waits for, and for how long, while the broker and services come up.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from brightline.platform.local.cpu_shares import CpuGroups, weigh_as_pods
from brightline.platform.local.kafka import LocalKafka
from brightline.platform.local.keycloak import LocalKeycloak
from brightline.platform.local.paths import project_root
from brightline.platform.local.postgres import LocalPostgres
from brightline.platform.local.progress import Progress, log_size

# Start order matters only for readability of the log; every service waits for its own inputs.
SERVICES = {
    "intake": 8001,
    "dispatch": 8002,
    "casework": 8003,
    "callback": 8004,
    "sla_monitor": 8005,
    "records": 8006,
    "console": 8000,
}
PROGRESS_EVERY = 5.0  # seconds between two "still waiting" lines


def say(line: str) -> None:
    print(line, flush=True)


@contextlib.contextmanager
def progress(what: str) -> Iterator[None]:
    """Print `still waiting for <what> (Ns)` every few seconds until the block ends."""
    started = time.monotonic()
    done = threading.Event()

    def tick() -> None:
        while not done.wait(PROGRESS_EVERY):
            say(f"  ... still waiting for {what} ({time.monotonic() - started:.0f}s)")

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()


def wait_ready(
    name: str,
    port: int,
    process: subprocess.Popen[bytes],
    log_path: Path,
    stall: float = 180.0,
) -> None:
    """Until the service's /readyz answers 200, however long that takes while its log grows
    (a busy machine migrates and connects slowly); gives up when it exits or its log stands
    still for `stall` seconds."""
    moving = Progress(log_size(log_path), stall=stall)
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log_path}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if moving.stalled():
            raise TimeoutError(f"{name} not ready and its log has not grown for {stall:.0f}s")
        time.sleep(0.5)


class RunLock:
    """One stack per home folder. flock() is released by the kernel when every holder of the
    open file is gone, so a killed launcher never leaves a stale lock (the watchdog holds it
    until it has stopped what the launcher left)."""

    def __init__(self, home: Path) -> None:
        self.path = home / "run.lock"
        self.state = home / "run.json"
        self.fd: int | None = None

    def acquire(self) -> bool:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            return False
        return True

    def running(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self.state.read_text())
            return state
        except (OSError, ValueError):
            return {}

    def write(self, **state: Any) -> None:
        current = self.running() if self.fd is not None else {}
        self.state.write_text(json.dumps({**current, **state}, indent=1))


class Watchdog:
    """The launcher's end of the watchdog's pipe (see brightline.platform.local.watchdog)."""

    def __init__(self, lock_fd: int | None) -> None:
        read, self._write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "brightline.platform.local.watchdog"],
            stdin=read,
            start_new_session=True,
            pass_fds=(lock_fd,) if lock_fd is not None else (),
        )
        os.close(read)

    def _send(self, line: str) -> None:
        os.write(self._write, f"{line}\n".encode())

    def group(self, pgid: int) -> None:
        self._send(f"group {pgid}")

    def postgres(self, data_dir: Path) -> None:
        self._send(f"postgres {data_dir}")

    def done(self) -> None:
        """Everything is stopped: the watchdog exits without touching anything."""
        self._send("done")
        os.close(self._write)
        self.process.wait(10)


def spawn(
    command: list[str], log_path: Path, env: dict[str, str], watchdog: Watchdog
) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    watchdog.group(process.pid)
    return process


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
        "--home",
        type=Path,
        default=None,
        help="folder of the database, broker data, logs and run lock (default <checkout>/.local)",
    )
    parser.add_argument(
        "--services",
        default=",".join(SERVICES),
        help="comma-separated services to start ('none' for only the broker and database)",
    )
    parser.add_argument("--port-offset", type=int, default=0, help="added to every service's port")
    parser.add_argument(
        "--no-demo", action="store_true", help="no demo data, users or clients; no simulator"
    )
    parser.add_argument(
        "--exit-when-ready", action="store_true", help="start, check, stop (for tests)"
    )
    parser.add_argument(
        "--kafka-acls",
        action="store_true",
        default=os.environ.get("BRIGHTLINE_KAFKA_ACLS") == "1",
        help="the broker with SASL/SCRAM and the ACLs generated from the topic registry, every "
        "service logging in as itself, as in docker-compose (BRIGHTLINE_KAFKA_ACLS=1)",
    )
    args = parser.parse_args()

    home = (args.home or project_root() / ".local").resolve()
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    lock = RunLock(home)
    if not lock.acquire():
        running = lock.running()
        say(
            f"Brightline is already running from {home} "
            f"(launcher pid {running.get('pid', '?')}, started {running.get('started_at', '?')}; "
            f"console {running.get('console', '?')}).\n"
            "Stop it with Ctrl-C in its terminal, or `kill <pid>`, then run again."
        )
        sys.exit(1)
    services = {
        name: port + args.port_offset
        for name, port in SERVICES.items()
        if name in args.services.split(",")
    }
    lock.write(
        pid=os.getpid(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        console=f"http://127.0.0.1:{services['console']}" if "console" in services else None,
        kafka=f"127.0.0.1:{args.kafka_port}",
    )
    watchdog = Watchdog(lock.fd)
    lock.write(watchdog_pid=watchdog.process.pid)

    postgres = LocalPostgres(home / "pgdata")
    if args.kafka_acls:
        from brightline.contracts.acls import acls

        # A broker of its own: SCRAM users are written when its storage is formatted.
        kafka_users = scram_passwords(home / "kafka-acls")
        kafka = LocalKafka(
            home / "kafka-acls",
            port=args.kafka_port,
            controller_port=args.kafka_port + 1,
            scram_users=kafka_users,
            acls=acls(),
        )
    else:
        kafka_users = {}
        kafka = LocalKafka(
            home / "kafka", port=args.kafka_port, controller_port=args.kafka_port + 1
        )
    keycloak_dir = home / "keycloak"
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
    processes: dict[str, subprocess.Popen[bytes]] = {}
    weighed: CpuGroups | None = None
    stopped = threading.Event()
    up = threading.Event()

    def on_signal(*_: object) -> None:
        stopped.set()
        if not up.is_set():  # still starting: abandon the start, the finally stops what runs
            raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def stop_all() -> None:
        for process in reversed(list(processes.values())):
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        if weighed is not None:
            weighed.release()
        keycloak.stop()
        kafka.stop()
        postgres.stop()

    try:
        say("starting PostgreSQL (embedded) ...")
        watchdog.postgres(postgres.data_dir)
        with progress("PostgreSQL"):
            database_url = postgres.start()
        say(f"  {postgres.version}")
        lock.write(postmaster_pid=_postmaster_pid(postgres.data_dir))
        say(f"starting Kafka {kafka.version} (KRaft) on 127.0.0.1:{args.kafka_port} ...")

        def broker_spawned(pid: int) -> None:
            watchdog.group(pid)
            lock.write(kafka_pid=pid)

        with progress("Kafka to answer metadata requests"):
            bootstrap = kafka.start(on_spawn=broker_spawned)
        say(f"  Kafka ready on {bootstrap}")
        if kafka_users:
            # Services may not create topics on this broker: the admin does, as the topic job.
            subprocess.run(
                [sys.executable, "-m", "brightline.messaging.topics", "--bootstrap", bootstrap],
                env={**os.environ, **kafka_login("admin", kafka_users)},
                check=True,
                capture_output=True,
            )
            say("  SASL/SCRAM and ACLs on: every service logs in as itself")
        say(f"starting Keycloak {keycloak.version} on 127.0.0.1:{args.keycloak_port} ...")

        def keycloak_spawned(pid: int) -> None:
            watchdog.group(pid)
            lock.write(keycloak_pid=pid)

        with progress("Keycloak to answer its discovery document"):
            issuer = keycloak.start(on_spawn=keycloak_spawned)
        admin = keycloak.admin()
        if not args.no_demo:
            admin.partial_import(project_root() / "deploy" / "keycloak" / "demo-brightline.json")
        console_secret = secrets.token_urlsafe(32)
        admin.configure_client("brightline-console", secret=console_secret)
        say(
            f"  issuer {issuer}  (admin console {keycloak.url}/admin, user admin, password in {admin_file})"
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
        if not args.no_demo:
            # The demo's switch is a script that stops mid-call with `make run`: the calls it
            # left ringing are given up after 10 minutes instead of the hour a real switch's
            # lost hangup waits, so a restarted demo does not show callers queued for an hour.
            env.setdefault("INTAKE_UNANSWERED_CALL_LIMIT_SECONDS", "600")
        for name, port in services.items():
            processes[name] = spawn(
                [sys.executable, "-m", f"brightline.{name}", "serve", "--port", str(port)],
                logs / f"{name}.log",
                {**env, **kafka_login(name, kafka_users)} if kafka_users else env,
                watchdog,
            )
        lock.write(services={name: p.pid for name, p in processes.items()})
        if services:
            say(f"starting {len(services)} services (logs in {logs}) ...")
            # As in a cluster (and `make bench`): when the cores are all busy, intake, which
            # answers the agent on a call, gets its pod's share, not a session's like the rest.
            weighed, _, note = weigh_as_pods(
                {name: p.pid for name, p in processes.items()},
                # one name per home: a run after a hard stop reuses its groups, not piles them up
                "run-" + hashlib.sha256(str(home).encode()).hexdigest()[:8],
                list(SERVICES),
            )
            say(f"  CPU weights {note}")
        for name, port in services.items():
            with progress(f"{name} to be ready"):
                wait_ready(name, port, processes[name], logs / f"{name}.log")
            say(f"  {name:<12} ready  http://127.0.0.1:{port}   (API docs: /docs)")
        if (
            not args.no_demo
            and "console" in services
            and importlib.util.find_spec("brightline.console.demo")
        ):
            processes["demo"] = spawn(
                [sys.executable, "-m", "brightline.console.demo"],
                logs / "demo.log",
                {**env, "DEMO_CONSOLE_URL": f"http://127.0.0.1:{services['console']}"},
                watchdog,
            )
            say("  demo data and traffic simulator running (make run NO_DEMO=1 to switch off)")
        console = (
            f"Console: http://127.0.0.1:{services['console']}  " if "console" in services else ""
        )
        say(f"\nBrightline is up. {console}Logs: {logs}  Stop: Ctrl-C")
        up.set()
        if args.exit_when_ready:
            return
        stopped.wait()
    except KeyboardInterrupt:
        say("interrupted while starting")
    finally:
        say("stopping ...")
        stop_all()
        watchdog.done()
        lock.state.unlink(missing_ok=True)


def scram_passwords(data_dir: Path) -> dict[str, str]:
    """The broker admin's and every service's password, made once and kept beside the broker's
    storage (which keeps their SCRAM credentials). The admin comes first: LocalKafka's rule."""
    from brightline.contracts.topics import SERVICES as PRINCIPALS

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "passwords.json"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(
            json.dumps({name: secrets.token_urlsafe(18) for name in ("admin", *PRINCIPALS)})
        )
    passwords: dict[str, str] = json.loads(path.read_text())
    return passwords


def kafka_login(user: str, passwords: dict[str, str]) -> dict[str, str]:
    """The environment of a Kafka client logging in as `user` (brightline.messaging.kafka)."""
    return {
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_USERNAME": user,
        "KAFKA_SASL_PASSWORD": passwords[user],
        "KAFKA_CREATE_TOPICS": "false",
    }


def _postmaster_pid(data_dir: Path) -> int | None:
    from brightline.platform.local.watchdog import postmaster_pid

    return postmaster_pid(data_dir)


if __name__ == "__main__":
    main()
