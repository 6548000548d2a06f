# Brightline. A newcomer needs two commands: `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
# uv comes from PyPI when the machine lacks it; everything else comes through uv and Maven.
UV := python3 -m uv
# The virtualenv's interpreter: the distribution's python3.11 where the machine has one. It is
# built with profile-guided optimisation and LTO, as the images' python:3.11-slim is
# (deploy/docker/Dockerfile); on a plain source build (pyenv's default, the first python3 on
# this machine's PATH) the services' Python took a third more CPU, and `make bench` measured that
# instead of what production runs (tests/bench/README.md, "The interpreter"). Elsewhere uv
# takes the first Python 3.11 it finds; `make setup VENV_PYTHON=/path/to/python` chooses. A
# distribution's python3.11-minimal alone lacks most of the standard library: then not it.
VENV_PYTHON ?= $(or $(shell /usr/bin/python3.11 -c 'import asyncio, ssl, sqlite3, zoneinfo' >/dev/null 2>&1 && echo /usr/bin/python3.11),3.11)

.PHONY: setup lint test test-unit web web-check run bench docs check-docs kafka-jars clean

# The console's web app (Vue 3 + TypeScript + Vite); the console serves its dist/.
WEB := services/console/web

.venv/.synced: pyproject.toml uv.lock $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
	$(UV) sync --all-packages --frozen --compile-bytecode --python $(VENV_PYTHON)
	touch $@

.cache/kafka/.fetched: .venv/.synced deploy/kafka/pom.xml
	$(PY) -m brightline.platform.local kafka-jars
	touch $@

$(WEB)/node_modules/.ci: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

$(WEB)/dist/index.html: $(WEB)/node_modules/.ci $(shell find $(WEB)/src $(WEB)/index.html $(WEB)/vite.config.ts docs/openapi/console.json -type f 2>/dev/null)
	cd $(WEB) && npm run build

.cache/keycloak/.fetched: .venv/.synced
	$(PY) -m brightline.platform.local keycloak-dist
	touch $@

# Python packages, the Kafka jars and Keycloak (Maven), the embedded PostgreSQL (a wheel),
# Debian's Chromium for the browser tests, and the console's web app (npm ci && npm run build).
# Byte code is compiled here, the packages' by uv and the project's own below (only what
# changed): where no process may write it (PYTHONDONTWRITEBYTECODE, as on this project's build
# box), every service process compiled each module it imported, about 2 s of CPU a start, and
# the suite starts over ninety of them (one scenario stack's start: 11 s with 681 of the 5,531
# modules compiled, 9-10 s with all).
setup: .venv/.synced .cache/kafka/.fetched .cache/keycloak/.fetched web
	bash deploy/browser/install-chromium.sh
	$(PY) -m compileall -q -j 0 libs/*/src services/*/src

web: $(WEB)/dist/index.html

## The web app's gates: ESLint + vue-tsc + the API drift check, then the Vitest unit tests.
web-check: web
	cd $(WEB) && npm run lint && npm run test

## One style for the whole repo: ruff's lint rules and its formatter, and mypy's types (strict on
## libs/ and every domain package; see [tool.mypy] in pyproject.toml), all gates of `make test`.
lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

## The whole suite: the gates (ruff, the web app's ESLint, vue-tsc and Vitest), then unit,
## integration (real Kafka + PostgreSQL), end-to-end, browser; the 25 slowest tests are printed.
## Two pytest-xdist workers, each with its own broker, database and Keycloak, a test file at a
## time (a module's services start once): one process left a third of two cores idle, waiting
## on servers and services (2,674 tests: 1,060-1,105 s on one, 697-770 s on two, 1.6 cores busy).
## `make test TEST_WORKERS=0` runs them in this process.
TEST_WORKERS ?= 2
test: setup lint web-check
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25

## Only the fast tests that need no broker or database.
test-unit: setup
	$(PY) -m pytest -m "not integration and not e2e"

## Every service, the local broker and database, the console; Ctrl-C (or a closed terminal, or
## a killed launcher: its watchdog) stops it all. A second `make run` says one is running.
run: setup
	$(PY) -m brightline.platform.local.stack $(if $(NO_DEMO),--no-demo) $(if $(KAFKA_ACLS),--kafka-acls)

## Benchmarks (not part of make test): prints a table, writes bench-results/.
bench: setup
	$(PY) tests/bench/run.py $(ARGS)

## Regenerate the contract documents (AsyncAPI, OpenAPI) after a contract change.
docs: setup
	$(PY) -m brightline.contracts.asyncapi --write
	$(PY) -m brightline.contracts.acls --write
	$(PY) -m brightline.platform.openapi_docs --write

## Fail when a contract document and the code disagree (the test suite checks this too).
check-docs: setup
	$(PY) -m brightline.contracts.asyncapi --check
	$(PY) -m brightline.contracts.acls --check
	$(PY) -m brightline.platform.openapi_docs --check

kafka-jars: .cache/kafka/.fetched

clean:
	rm -rf .local .venv .cache
