"""The type gate of `make lint` (and so of `make test`): mypy with the project's configuration
refuses an untyped function in a domain package, refuses a type error anywhere in a service, and
lets the service layer keep unannotated helpers (checked, not strict)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pyproject.toml"


def mypy_on(tmp_path: Path, module: str, source: str) -> tuple[int, str]:
    """Run mypy, configured as the gate is, on one module of the `brightline` namespace."""
    path = tmp_path.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    out, err, status = api.run(
        [
            "--config-file",
            str(CONFIG),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--explicit-package-bases",
            str(path.relative_to(tmp_path)),
        ]
    )
    return status, out + err


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the module is named from the folder mypy is run in
    return tmp_path


UNTYPED = "def pure(x):\n    return x\n"


def test_the_lint_target_runs_mypy() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = re.search(r"^lint:.*?(?=^\S)", makefile, re.M | re.S)
    assert lint is not None and ".venv/bin/mypy" in lint.group(0)


def test_a_domain_package_is_strict(in_tmp: Path) -> None:
    status, out = mypy_on(in_tmp, "brightline.gate_probe.domain.model", UNTYPED)
    assert status == 1, out
    assert "[no-untyped-def]" in out


def test_a_service_layer_is_checked_not_strict(in_tmp: Path) -> None:
    status, out = mypy_on(in_tmp, "brightline.gate_probe.adapters.store", UNTYPED)
    assert status == 0, out
    status, out = mypy_on(
        in_tmp,
        "brightline.gate_probe.handlers",
        "def count() -> int:\n    return 'three'\n",
    )
    assert status == 1, out
    assert "[return-value]" in out
