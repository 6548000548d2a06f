"""docs/openapi/<service>.json are generated from the code; a test fails when they drift.
Regenerate with `python -m brightline.platform.openapi_docs --write`."""

import json

from brightline.platform import openapi_docs
from brightline.platform.local.paths import project_root

ROOT = project_root()


def test_every_service_has_a_checked_in_openapi_document_matching_its_code():
    services = openapi_docs.service_names(ROOT)
    assert {"intake", "dispatch", "casework", "callback", "sla_monitor", "console"} <= set(services)
    assert openapi_docs.drift(ROOT) == [], "run: python -m brightline.platform.openapi_docs --write"
    intake = json.loads(openapi_docs.document_path("intake", ROOT).read_text())
    assert intake["info"]["title"] == "Brightline intake"
    assert "post" in intake["paths"]["/tickets"]


def test_the_check_names_a_changed_a_missing_and_a_stale_document(tmp_path):
    (tmp_path / "services").symlink_to(ROOT / "services")
    openapi_docs.write(tmp_path)  # fresh documents from the code, then break three of them
    docs = tmp_path / "docs" / "openapi"
    assert openapi_docs.drift(tmp_path) == []
    intake = json.loads((docs / "intake.json").read_text())
    intake["paths"].pop("/tickets")
    (docs / "intake.json").write_text(openapi_docs.render(intake))
    (docs / "dispatch.json").unlink()
    (docs / "billing.json").write_text("{}\n")
    assert openapi_docs.drift(tmp_path) == ["dispatch", "intake", "billing (no such service)"]


def test_the_cli_check_passes_on_the_checked_in_documents(capsys, monkeypatch):
    monkeypatch.setenv("BRIGHTLINE_HOME", str(ROOT))
    assert openapi_docs.main(["--check"]) == 0
    assert "match" in capsys.readouterr().out
