# Two commands matter: `make run` (install + the local Message Center) and `make test`
# (install + the whole suite). Everything else is a building block of those two.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# Node 22 or 24 (package.json "engines"): the system's, or the one tools/ensure-node.sh fetched into
# .tools/node when the system's is older; first on PATH for every recipe (npm, npx, the CDK, jsii).
export PATH := $(CURDIR)/.tools/node/bin:$(PATH)
# Python packages come from the lock files (`make lock` rewrites them from pyproject.toml).
LOCK_DIR := requirements

.PHONY: run test install node lock lint typecheck unit integration infra e2e attack fuzz bench soak synth clean web web-check web-openapi chromium

# The web client (web/): its npm dependencies, and its build, redone only when a source changed.
WEB_STAMP := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public -type f ! -name '*.gen.ts' 2>/dev/null) \
	web/index.html web/openapi.json web/vite.config.ts web/tsconfig.json web/package-lock.json

$(STAMP): pyproject.toml $(LOCK_DIR)/dev.txt package.json package-lock.json | node
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK_DIR)/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	npm ci --silent --no-audit --no-fund
	touch $(STAMP)

# Checked on every install: a clear message when no supported Node can be had.
node:
	@./tools/ensure-node.sh

# Re-resolve the lock files from pyproject.toml (universal: every platform and Python >= 3.11):
# the runtime set (what the Lambda layer ships), then dev + local constrained to the same pins.
# A test fails while a dependency of pyproject.toml is not pinned in them.
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet
lock: $(STAMP)
	$(LOCK) -o $(LOCK_DIR)/runtime.txt
	$(LOCK) --extra dev -c $(LOCK_DIR)/runtime.txt -o $(LOCK_DIR)/dev.txt

$(WEB_STAMP): web/package.json web/package-lock.json | node
	cd web && npm ci --silent --no-audit --no-fund
	touch $(WEB_STAMP)

web/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run --silent build >/dev/null

install: $(STAMP) $(WEB_STAMP)

run: $(STAMP) web/dist/index.html
	$(BIN)/message-center serve

test: $(STAMP) lint typecheck web-check web/dist/index.html chromium
	$(BIN)/pytest -n 2 -q tests

# The browser tests drive Debian's Chromium (no browser download of Playwright's own).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

web: web/dist/index.html

web-check: $(WEB_STAMP)
	cd web && npm run --silent lint && npx tsc --noEmit

# Rewrite web/openapi.json from the API handler (a test fails while the copy is out of date).
web-openapi: $(STAMP)
	$(BIN)/python -c "import json, sys; sys.path.insert(0, 'layers'); from functions.api.handler import _openapi_json; \
	open('web/openapi.json', 'w').write(json.dumps(json.loads(_openapi_json()), indent=4, ensure_ascii=False) + '\n')"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -n 2 -q tests/integration

infra: $(STAMP)
	$(BIN)/pytest -q tests/infra

e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

# The attack suite alone (authorization matrix and a short fuzzing run; both are part of `make test`).
attack: $(STAMP)
	$(BIN)/pytest -n 2 -q tests/attack

# A long fuzzing run: FUZZ_EXAMPLES generated requests per operation (`make test` sends 100).
FUZZ_EXAMPLES ?= 1000
fuzz: $(STAMP)
	MESSAGE_CENTER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -n 2 -q tests/attack/test_fuzz_api.py

# Then `make run` under a short load as fast as answered: requests/s, p50/p99, send → notification, RSS.
BENCH_SECONDS ?= 30
bench: $(STAMP)
	$(BIN)/python -m benchmarks.api_requests
	$(BIN)/python -m benchmarks.cold_start
	@echo
	$(BIN)/message-center cost --users 10000 --messages-per-user 20
	$(BIN)/python -m benchmarks.soak --seconds $(BENCH_SECONDS) --rate 0

# `make run` under sustained load (not part of `make test`): `make soak SOAK_SECONDS=60` for a short run.
SOAK_SECONDS ?= 600
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak --seconds $(SOAK_SECONDS)

synth: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet

clean:
	rm -rf $(VENV) .tools node_modules cdk.out .pytest_cache .ruff_cache .mypy_cache web/node_modules web/dist
