"""`python -m brightline.<service> serve|migrate`: the same two commands for every service."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI

from brightline.platform.db import database_url, ensure_database, server_url
from brightline.platform.migrations import upgrade
from brightline.platform.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def load_settings(settings_class: type[S]) -> S:
    """The settings, or exit 2 naming what is wrong (a service refuses to start in production
    with a missing, short or placeholder secret)."""
    from pydantic import ValidationError

    try:
        return settings_class()
    except ValidationError as error:
        messages = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        print(f"refusing to start: {messages}", file=sys.stderr, flush=True)
        sys.exit(2)


def run_cli(
    settings_class: type[S],
    create_app: Callable[..., FastAPI],
    service_dir: Path,
    default_port: int,
    commands: dict[str, tuple[str, Callable[[S], None]]] | None = None,
) -> None:
    """`commands`: a service's own extra commands, name -> (help, function of the settings)."""
    name = settings_class.model_fields["service_name"].default
    parser = argparse.ArgumentParser(prog=f"python -m brightline.{name}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations, then serve HTTP and run consumers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=default_port)
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="uvicorn worker processes (WEB_CONCURRENCY); each runs the HTTP API, a consumer "
        "of the service's group (they share the partitions) and a relay (they share the shards)",
    )
    sub.add_parser("migrate", help="create the database if needed and apply migrations")
    for command, (help_text, _) in (commands or {}).items():
        sub.add_parser(command, help=help_text)
    args = parser.parse_args()
    settings = load_settings(settings_class)

    if commands and args.command in commands:
        commands[args.command][1](settings)
        return

    if args.command == "migrate":
        server = server_url(settings.database_url)
        asyncio.run(ensure_database(server, settings.database_name))
        upgrade(service_dir, database_url(server, settings.database_name))
        return

    import uvicorn

    if args.workers > 1:
        # Migrate once here, not in N racing lifespans; the workers build the app themselves.
        server = server_url(settings.database_url)
        asyncio.run(ensure_database(server, settings.database_name))
        if settings.migrate_on_start:
            upgrade(service_dir, database_url(server, settings.database_name))
        os.environ["MIGRATE_ON_START"] = "false"
        uvicorn.run(
            f"{create_app.__module__}:{create_app.__name__}",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            **server_options(settings),
        )
        return
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        **server_options(settings),
    )


def server_options(settings: ServiceSettings) -> dict[str, Any]:
    """uvicorn's settings of every service (`serve`, one worker or several)."""
    return {
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 10,
        "timeout_keep_alive": settings.http_keep_alive_seconds,
    }
