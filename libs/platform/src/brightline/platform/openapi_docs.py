"""OpenAPI documents of every service, generated from the code and checked in.

`python -m brightline.platform.openapi_docs --write` regenerates docs/openapi/<service>.json
from each service's create_app(settings).openapi() (no lifespan: no database, no broker);
`--check` exits 1 and names the documents that differ from the code (run by the test suite).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from brightline.platform.local.paths import project_root
from brightline.platform.settings import ServiceSettings


def service_names(root: Path | None = None) -> list[str]:
    """Every service of the workspace: services/<name>/ with a pyproject.toml."""
    root = root or project_root()
    return sorted(p.name for p in (root / "services").iterdir() if (p / "pyproject.toml").is_file())


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"brightline.{service}.settings")
    classes = [
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, ServiceSettings)
        and c is not ServiceSettings
        and c.__module__ == module.__name__
    ]
    if len(classes) != 1:
        raise LookupError(
            f"brightline.{service}.settings must define one settings class, found {classes}"
        )
    return classes[0]


def openapi_of(service: str) -> dict[str, Any]:
    main = importlib.import_module(f"brightline.{service}.main")
    # Development settings: the document needs no secret (production refuses to start without).
    app = main.create_app(settings_class(service)(environment="development"))
    document: dict[str, Any] = app.openapi()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def document_path(service: str, root: Path | None = None) -> Path:
    return (root or project_root()) / "docs" / "openapi" / f"{service}.json"


def drift(root: Path | None = None) -> list[str]:
    """Services whose checked-in document is missing or differs from the code; also stale
    documents of services that no longer exist."""
    root = root or project_root()
    services = service_names(root)
    differing = []
    for service in services:
        path = document_path(service, root)
        if not path.is_file() or path.read_text(encoding="utf-8") != render(openapi_of(service)):
            differing.append(service)
    folder = root / "docs" / "openapi"
    if folder.is_dir():
        differing += sorted(
            f"{p.stem} (no such service)" for p in folder.glob("*.json") if p.stem not in services
        )
    return differing


def write(root: Path | None = None) -> list[Path]:
    root = root or project_root()
    written = []
    for service in service_names(root):
        path = document_path(service, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(openapi_of(service)), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m brightline.platform.openapi_docs", description=__doc__
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate docs/openapi/<service>.json")
    mode.add_argument(
        "--check", action="store_true", help="fail when a document differs from the code"
    )
    args = parser.parse_args(argv)
    if args.write:
        for path in write():
            print(f"wrote {path}")
        return 0
    differing = drift()
    if differing:
        print(
            "OpenAPI documents differ from the code: "
            + ", ".join(differing)
            + "\nrun: python -m brightline.platform.openapi_docs --write",
            file=sys.stderr,
        )
        return 1
    print("OpenAPI documents match the code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
