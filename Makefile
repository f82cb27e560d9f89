# orgconnect: `make dev` serves the whole system locally; `make test` runs every gate.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export UV_COMPILE_BYTECODE := 1
export UV_PYTHON_DOWNLOADS := never
export SAM_CLI_TELEMETRY := 0

UV = $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help dev test lint format cfn build browsers dynamodb-local pytest openapi bench clean uv venv

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

uv: ## install uv if missing
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | uv
	py="$$(scripts/find-python.sh)" && $(UV) sync --frozen --python "$$py"
	@touch $@

venv: $(VENV)/.synced

dev: venv ## serve orgconnect, the simulators and the demo on 127.0.0.1 (Ctrl-C stops)
	$(BIN)/python -m devstack $(DEV_ARGS)

test: venv lint cfn build browsers dynamodb-local pytest ## every gate: lint, template checks, sam build, all tests
# Under `make test` a missing DynamoDB Local fails its tests instead of skipping them.
test: export ORGCONNECT_REQUIRE_DYNAMODB_LOCAL := 1

lint: venv ## ruff (lint + format check), mypy and the layer contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PYTHONPATH=layers/orgconnect:. $(BIN)/lint-imports

format: venv ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

cfn: venv ## cfn-lint and sam validate --lint
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint

build: venv ## sam build (needs python3.13 on PATH, which this provides)
	py="$$(scripts/find-python.sh)" && PATH="$$(dirname "$$py"):$$PATH" $(BIN)/sam build --parallel

browsers: ## Debian's chromium for the browser tests (installed when missing)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  echo "installing Debian's chromium for the browser tests"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null; }

dynamodb-local: ## Java 17 and AWS's DynamoDB Local for the [dynamodb-local] tests (installed when missing)
	@scripts/install-dynamodb-local.sh

pytest: venv ## unit, integration, simulator and end-to-end tests
	$(BIN)/python -m pytest $(PYTEST_ARGS)

openapi: venv ## regenerate docs/openapi.json from the resolvers
	$(BIN)/python -m devstack.openapi docs/openapi.json

bench: venv ## cold-start import time, AWS calls per request, sync throughput
	$(BIN)/python -m benchmarks

clean: ## remove build output and caches
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
