"""An embedded PostgreSQL 16 server from the `pgserver` wheel, in a folder of the project.

It listens on a unix socket only (no TCP port to collide with); URLs carry `?host=<dir>`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

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
        # must not stop it for them later.
        self.started_here = not (self.data_dir / "postmaster.pid").exists()
        # cleanup_mode=None: the server outlives this handle; stop() ends it explicitly.
        server = self._server = pgserver.get_server(self.data_dir, cleanup_mode=None)
        current = server.psql("SHOW max_connections;")
        if str(MAX_CONNECTIONS) not in current:
            server.psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
            self.restart()
        log.info("PostgreSQL ready: %s", self.version)
        return self.url

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
        """pg_ctl restart reuses the options the server was started with (postmaster.opts)."""
        self._pg_ctl("-m", "fast", "restart")

    def stop(self) -> None:
        """Stop the server if this handle started it (see start())."""
        if getattr(self, "started_here", True) and (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("-m", "fast", "stop")
