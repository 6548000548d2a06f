"""An embedded PostgreSQL 16 server from the `pgserver` wheel, in a folder of the project.

It listens on a unix socket only (no TCP port to collide with); URLs carry `?host=<dir>`.
"""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from brightline.platform.local.paths import remove_in_background

if TYPE_CHECKING:
    import pgserver

log = logging.getLogger(__name__)

# Six services with connection pools, consumers and relays, plus the test suite.
MAX_CONNECTIONS = 400


class LocalPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._server: pgserver.PostgresServer | None = None

    def start(self) -> str:
        """Start (or join) the server and return a SQLAlchemy asyncpg URL to `postgres`."""
        import warnings

        # pgserver narrates every pg_ctl call at INFO and warns about XDG_RUNTIME_DIR.
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # Joining a server another process started (make run beside a test session, say)
        # must not stop it for them later. A postmaster.pid left by a server that was killed
        # names no running process: that server is started here.
        self.started_here = not self._postmaster_running()
        # cleanup_mode=None: the server outlives this handle; stop() ends it explicitly.
        try:
            server = pgserver.get_server(self.data_dir, cleanup_mode=None)
        except subprocess.TimeoutExpired:
            # pgserver gives `pg_ctl start` 10 s. After an unclean stop (a killed `make run`, a
            # reboot) the server first replays its WAL: 27 s for a bench's data directory here.
            # Wait while the postmaster lives, then join it.
            self._wait_until_ready()
            self.forget_handle()
            server = pgserver.get_server(self.data_dir, cleanup_mode=None)
        self._server = server
        current = server.psql("SHOW max_connections;")
        if str(MAX_CONNECTIONS) not in current:
            server.psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
            self.restart()
        log.info("PostgreSQL ready: %s", self.version)
        return self.url

    def forget_handle(self) -> None:
        """Drop pgserver's cached handle of this directory (one that failed to start, or one
        whose server was killed), so the next start() looks at the server afresh."""
        import atexit

        import pgserver

        handle = pgserver.PostgresServer._instances.pop(self.data_dir.resolve(), None)
        if handle is not None:
            atexit.unregister(handle._cleanup)  # it would remove the next handle's entry

    def _postmaster(self) -> tuple[bool, str]:
        """Whether the postmaster named by postmaster.pid runs, and the status it wrote there
        (`starting`, `ready`, ...; the file is written in steps, so its line may be missing)."""
        import psutil

        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (FileNotFoundError, IndexError, ValueError):
            return False, ""
        status = lines[7].strip() if len(lines) > 7 else ""
        try:
            process = psutil.Process(pid)
            # After a reboot the number may be another program's.
            running = process.name() == "postgres" and process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            running = False
        return running, status

    def _postmaster_running(self) -> bool:
        return self._postmaster()[0]

    def _wait_until_ready(self) -> None:
        """Until the postmaster says `ready`; bounded by its progress, not a clock: a server
        replaying WAL stays alive, one that failed exits."""
        while True:
            running, status = self._postmaster()
            if not running:
                log_file = self.data_dir / "log"
                tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
                raise RuntimeError(
                    f"PostgreSQL under {self.data_dir} stopped while starting:\n{tail}"
                )
            if status == "ready":
                return
            log.info("PostgreSQL under %s is still starting (recovery)", self.data_dir)
            time.sleep(0.5)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        uri = self._server.get_uri()  # postgresql://postgres:@/postgres?host=<socket dir>
        return uri.replace("postgresql://postgres:@", "postgresql+asyncpg://postgres@", 1)

    @property
    def version(self) -> str:
        assert self._server is not None, "start() first"
        out = self._server.psql("SELECT version();")
        return next(line.strip() for line in out.splitlines() if "PostgreSQL" in line)

    def _pg_ctl(self, *args: str) -> None:
        # pgserver's wrapper writes output to temp files: pg_ctl with pipes can hang.
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time

        user = getattr(self._server, "system_user", None)
        pg_ctl(["-w", *args], pgdata=self.data_dir, **({"user": user} if user else {}))

    def restart(self) -> None:
        """pg_ctl restart reuses the options the server was started with (postmaster.opts), but
        not its log file: without `-l` the restarted server logged to pg_ctl's discarded output."""
        self._pg_ctl("-m", "fast", "-l", str(self.data_dir / "log"), "restart")

    def stop(self) -> None:
        """Stop the server if this handle started it (see start())."""
        if getattr(self, "started_here", True) and (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("-m", "fast", "stop")

    def discard(self) -> None:
        """Stop the server at once and remove its data folder (in the background): for a
        throwaway one (a test session's), whose shutdown checkpoint would only write pages nobody
        reads again. A server this handle joined (see start()) is another's: left as it is."""
        if not getattr(self, "started_here", True):
            return
        if (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("-m", "immediate", "stop")
        remove_in_background(self.data_dir)
