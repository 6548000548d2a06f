"""The local PostgreSQL comes back after it was killed, however long its recovery takes.

pgserver gives `pg_ctl start` 10 s; a server killed under load replays its WAL first (27 s for
a bench's data directory on this box), and `make run` or the bench then failed with
TimeoutExpired. Here pg_ctl is made to give up at once, as it does on a long recovery."""

import contextlib
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from brightline.platform.local.postgres import LocalPostgres


def _kill_server(data_dir: Path) -> None:
    """SIGKILL the postmaster and its children: an unclean stop, as a crash or reboot leaves."""
    pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    postmaster = psutil.Process(pid)
    family = [postmaster, *postmaster.children(recursive=True)]
    for process in family:
        # A child may end on its own between the listing and the kill (the backend of the
        # psql that just ran, one the postmaster's death takes down): gone is what is wanted.
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(family, timeout=30)


def test_a_killed_server_is_started_again_when_pg_ctl_gives_up_waiting(tmp_path, monkeypatch):
    import pgserver.postgres_server

    data_dir = tmp_path / "pg"
    first = LocalPostgres(data_dir)
    first.start()
    assert first._server is not None
    first._server.psql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42);")
    _kill_server(data_dir)
    assert (data_dir / "postmaster.pid").exists()  # stale: its server is gone
    first.forget_handle()

    real_pg_ctl = pgserver.postgres_server.pg_ctl
    gave_up: list[bool] = []

    def pg_ctl_that_gives_up(args, **kwargs):
        if "start" not in args:
            return real_pg_ctl(args, **kwargs)
        # Start the server without waiting for it, and give up as pg_ctl does on a long
        # recovery: after the postmaster has written its pid file, before it may be ready.
        real_pg_ctl(["-W" if a == "-w" else a for a in args], **kwargs)
        for _ in range(600):
            if again._postmaster_running():
                break
            time.sleep(0.05)
        gave_up.append(True)
        raise subprocess.TimeoutExpired("pg_ctl", kwargs.get("timeout", 10))

    monkeypatch.setattr(pgserver.postgres_server, "pg_ctl", pg_ctl_that_gives_up)
    again = LocalPostgres(data_dir)
    try:
        again.start()
        assert gave_up, "pg_ctl was never asked to start the server"
        assert again.started_here, "the stale postmaster.pid was taken for a running server"
        assert again._server is not None
        assert "42" in again._server.psql("SELECT n FROM kept;")
    finally:
        monkeypatch.undo()
        again.stop()
    assert not (data_dir / "postmaster.pid").exists(), "stop() left the server it started running"


def test_a_server_that_cannot_start_is_reported_with_its_log(tmp_path, monkeypatch):
    import pgserver.postgres_server

    data_dir = tmp_path / "pg"
    first = LocalPostgres(data_dir)
    first.start()
    first.stop()
    first.forget_handle()

    def pg_ctl_that_never_starts(args, **kwargs):
        if "start" in args:
            raise subprocess.TimeoutExpired("pg_ctl", 10)
        raise AssertionError(args)

    monkeypatch.setattr(pgserver.postgres_server, "pg_ctl", pg_ctl_that_never_starts)
    with pytest.raises(RuntimeError, match="stopped while starting"):
        LocalPostgres(data_dir).start()


def test_a_discarded_server_is_stopped_and_its_folder_removed_without_waiting(tmp_path):
    """A test session's server: stopped at once, and its folder removed (in the background, so
    the session does not wait for a whole suite's databases to be unlinked)."""
    data_dir = tmp_path / "pg"
    server = LocalPostgres(data_dir)
    server.start()
    postmaster = psutil.Process(int((data_dir / "postmaster.pid").read_text().splitlines()[0]))
    server.discard()
    assert not postmaster.is_running() or postmaster.status() == psutil.STATUS_ZOMBIE
    assert not data_dir.exists()
    aside = data_dir.with_name(".pg.removing")
    for _ in range(1200):  # a hang stops here; a folder this small goes in well under a second
        if not aside.exists():
            break
        time.sleep(0.1)
    assert not aside.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_joined_server_is_not_discarded(tmp_path):
    """discard() of a handle that joined a running server (make run's, say) leaves it running."""
    data_dir = tmp_path / "pg"
    owner = LocalPostgres(data_dir)
    owner.start()
    try:
        joined = LocalPostgres(data_dir)
        joined.start()
        assert not joined.started_here
        joined.discard()
        assert (data_dir / "postmaster.pid").exists()
        assert owner._server is not None
        assert "1" in owner._server.psql("SELECT 1;")
    finally:
        owner.stop()
