"""`python -m brightline.<service> serve|migrate`: the same two commands for every service."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

from brightline.platform.db import database_url, ensure_database, server_url
from brightline.platform.migrations import upgrade
from brightline.platform.settings import ServiceSettings


def run_cli(
    settings_class: type[ServiceSettings],
    create_app: Callable,
    service_dir: Path,
    default_port: int,
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m brightline.{settings_class().service_name}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations, then serve HTTP and run consumers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=default_port)
    sub.add_parser("migrate", help="create the database if needed and apply migrations")
    args = parser.parse_args()
    settings = settings_class()

    if args.command == "migrate":
        server = server_url(settings.database_url)
        asyncio.run(ensure_database(server, settings.database_name))
        upgrade(service_dir, database_url(server, settings.database_name))
        return

    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
