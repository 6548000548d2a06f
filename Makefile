# Brightline — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := .venv/bin/python

.PHONY: setup test test-unit run bench kafka-jars docs check-docs clean

# uv comes from PyPI when the machine lacks it; everything else comes through uv and Maven.
$(UV):
	python3 -m pip install --user --quiet uv || python3 -m pip install --quiet --break-system-packages uv

.venv/.synced: $(UV) pyproject.toml uv.lock $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --all-packages --frozen
	touch $@

setup: .venv/.synced

test: setup
	$(PY) -m pytest

test-unit: setup
	$(PY) -m pytest -m "not integration and not e2e"

clean:
	rm -rf .local .venv
