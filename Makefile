# Two commands matter: `make run` (install + the local Message Center) and `make test`
# (install + the whole suite). Everything else is a building block of those two.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: run test install lint typecheck unit integration infra e2e bench soak synth clean

$(STAMP): pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	npm ci --silent --no-audit --no-fund
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/message-center serve

test: $(STAMP) lint typecheck
	$(BIN)/pytest -n 2 -q tests

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

bench: $(STAMP)
	$(BIN)/python -m benchmarks.api_requests

# `make run` under sustained load (not part of `make test`): `make soak SOAK_SECONDS=60` for a short run.
SOAK_SECONDS ?= 600
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak --seconds $(SOAK_SECONDS)

synth: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .ruff_cache .mypy_cache
