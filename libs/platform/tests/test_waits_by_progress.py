"""`make run` and the test session wait for Keycloak and the services as long as they visibly
make progress (their log grows), not for a fixed time sized for a quiet machine; one whose log
stands still is given up on.

The server here is a small process that logs a line every 0.1 s for a while and then serves
/readyz (and a discovery document): slower than the quiet window the wait allows."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from brightline.platform.local import keycloak as keycloak_module
from brightline.platform.local.keycloak import LocalKeycloak
from brightline.platform.local.paths import free_port
from brightline.platform.local.stack import wait_ready

# The quiet window the waits allow: longer than a busy machine takes to start the fake server
# (its first line), shorter than the fake's ~5-s start. Only the quiet window is a clock here.
WINDOW = 3.0

SLOW_SERVER = textwrap.dedent(
    """
    import http.server, sys, time
    port, log_lines = int(sys.argv[1]), int(sys.argv[2])
    for n in range(log_lines):  # a slow start that says what it is doing
        print(f"starting, step {n}", flush=True)
        time.sleep(0.1)
    if log_lines < 0:  # a hung start: it says nothing and never serves
        time.sleep(3600)

    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    print("started", flush=True)
    http.server.HTTPServer(("127.0.0.1", port), Ready).serve_forever()
    """
)


def _slow_server(tmp_path: Path, log_lines: int, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    log_path = tmp_path / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", SLOW_SERVER, str(port), str(log_lines)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, log_path


def test_a_service_that_starts_slowly_but_visibly_is_waited_for(tmp_path):
    port = free_port()
    process, log_path = _slow_server(tmp_path, log_lines=50, port=port)  # ~5 s of start
    try:
        started = time.monotonic()
        wait_ready("slow", port, process, log_path, stall=WINDOW)
        assert time.monotonic() - started > WINDOW, "the start was meant to outlast the window"
    finally:
        process.kill()
        process.wait()


def test_a_service_whose_log_stands_still_is_given_up(tmp_path):
    port = free_port()
    process, log_path = _slow_server(tmp_path, log_lines=-1, port=port)
    try:
        with pytest.raises(TimeoutError, match="log has not grown"):
            wait_ready("hung", port, process, log_path, stall=WINDOW)
    finally:
        process.kill()
        process.wait()


def _answers_when_started(log_path: Path):
    return lambda issuer: "started" in log_path.read_text()


def test_keycloak_that_starts_slowly_but_visibly_is_waited_for(tmp_path, monkeypatch):
    server = LocalKeycloak(tmp_path / "kc")
    server.process, log_path = _slow_server(tmp_path, log_lines=50, port=free_port())
    monkeypatch.setattr(keycloak_module, "answers_discovery", _answers_when_started(log_path))
    monkeypatch.setattr(keycloak_module, "READY_POLL_SECONDS", 0.05)
    try:
        started = time.monotonic()
        server._wait_ready(WINDOW, log_path)
        assert time.monotonic() - started > WINDOW, "the start was meant to outlast the window"
    finally:
        server.process.kill()
        server.process.wait()


def test_keycloak_whose_log_stands_still_is_given_up(tmp_path, monkeypatch):
    server = LocalKeycloak(tmp_path / "kc")
    server.process, log_path = _slow_server(tmp_path, log_lines=-1, port=free_port())
    monkeypatch.setattr(keycloak_module, "answers_discovery", _answers_when_started(log_path))
    monkeypatch.setattr(keycloak_module, "READY_POLL_SECONDS", 0.05)
    try:
        with pytest.raises(TimeoutError, match="log has not grown"):
            server._wait_ready(WINDOW, log_path)
    finally:
        server.process.kill()
        server.process.wait()
