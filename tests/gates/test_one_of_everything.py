"""One of everything: one ticket-type vocabulary (contracts), one role vocabulary (platform.auth),
one clock (platform.clock), one idempotency-key header (messaging.http). Each test fails when a
service grows its own copy again."""

from __future__ import annotations

import json
import re
from pathlib import Path

from brightline.contracts.events.common import TICKET_TYPES
from brightline.intake.domain import scripts

ROOT = Path(__file__).resolve().parents[2]
SERVICE_SOURCES = sorted(ROOT.glob("services/*/src/brightline/**/*.py"))


def offending(pattern: str) -> list[str]:
    found = []
    for path in SERVICE_SOURCES:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    return found


def test_the_script_engine_knows_the_contracts_ticket_types() -> None:
    assert scripts.TICKET_TYPES is TICKET_TYPES


def test_no_service_lists_the_ticket_types_itself() -> None:
    # A tuple or Literal of ticket types starts with "repair", "consultation" on two lines.
    listed = []
    for path in SERVICE_SOURCES:
        if re.search(r'"repair",\s*\n\s*"consultation",', path.read_text(encoding="utf-8")):
            listed.append(str(path.relative_to(ROOT)))
    assert listed == []


def test_route_callers_are_named_only_in_platform_auth() -> None:
    assert offending(r"Annotated\[\s*Principal,\s*Depends\(Allow\(") == []


def test_services_read_the_one_clock() -> None:
    assert offending(r"datetime\.(now|utcnow)\(") == []


def test_every_idempotency_key_header_is_the_same() -> None:
    schemas = set()
    for document in sorted((ROOT / "docs" / "openapi").glob("*.json")):
        for path in json.loads(document.read_text(encoding="utf-8"))["paths"].values():
            for operation in path.values():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "header" and parameter["name"] == "idempotency-key":
                        schemas.add(json.dumps(parameter["schema"], sort_keys=True))
    assert len(schemas) == 1, schemas
