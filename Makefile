# Two commands matter: `make run` (install + the local Message Center) and `make test`
# (install + the whole suite). Everything else is a building block of those two.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: run test install lint typecheck unit integration infra e2e attack fuzz bench soak synth clean web web-check web-openapi chromium

# The web client (web/): its npm dependencies, and its build, redone only when a source changed.
WEB_STAMP := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public -type f ! -name '*.gen.ts' 2>/dev/null) \
	web/index.html web/openapi.json web/vite.config.ts web/tsconfig.json web/package-lock.json

$(STAMP): pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	npm ci --silent --no-audit --no-fund
	touch $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
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

bench: $(STAMP)
	$(BIN)/python -m benchmarks.api_requests
	$(BIN)/python -m benchmarks.realtime_latency

# `make run` under sustained load (not part of `make test`): `make soak SOAK_SECONDS=60` for a short run.
SOAK_SECONDS ?= 600
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak --seconds $(SOAK_SECONDS)

synth: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .ruff_cache .mypy_cache web/node_modules web/dist
