# Brightline. A newcomer needs two commands: `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
# uv comes from PyPI when the machine lacks it; everything else comes through uv and Maven.
UV := python3 -m uv

.PHONY: setup lint test test-unit run bench docs check-docs kafka-jars clean

.venv/.synced: pyproject.toml uv.lock $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
	$(UV) sync --all-packages --frozen
	touch $@

.cache/kafka/.fetched: .venv/.synced deploy/kafka/pom.xml
	$(PY) -m brightline.platform.local kafka-jars
	touch $@

.cache/keycloak/.fetched: .venv/.synced
	$(PY) -m brightline.platform.local keycloak-dist
	touch $@

# Python packages, the Kafka jars and Keycloak (Maven), the embedded PostgreSQL (a wheel), and
# Debian's Chromium for the browser tests.
setup: .venv/.synced .cache/kafka/.fetched .cache/keycloak/.fetched
	bash deploy/browser/install-chromium.sh

## One style for the whole repo: ruff's lint rules and its formatter, both gates of `make test`.
lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

## The whole suite: the gates, then unit, integration (real Kafka + PostgreSQL), end-to-end, browser.
test: setup lint
	$(PY) -m pytest

## Only the fast tests that need no broker or database.
test-unit: setup
	$(PY) -m pytest -m "not integration and not e2e"

## Every service, the local broker and database, the console; Ctrl-C stops it all.
run: setup
	$(PY) -m brightline.platform.local.stack $(if $(NO_DEMO),--no-demo)

## Benchmarks (not part of make test): prints a table, writes bench-results/.
bench: setup
	$(PY) tests/bench/run.py $(ARGS)

## Regenerate the contract documents (AsyncAPI, OpenAPI) after a contract change.
docs: setup
	$(PY) -m brightline.contracts.asyncapi --write
	$(PY) -m brightline.platform.openapi_docs --write

## Fail when a contract document and the code disagree (the test suite checks this too).
check-docs: setup
	$(PY) -m brightline.contracts.asyncapi --check
	$(PY) -m brightline.platform.openapi_docs --check

kafka-jars: .cache/kafka/.fetched

clean:
	rm -rf .local .venv .cache
