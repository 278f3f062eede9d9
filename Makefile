# The one place to find project tasks. `make run` and `make test` set everything up.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast fuzz lint format schema migrations seed bench ci clean

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(BIN)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: $(BIN)/.synced ## Create .venv from the lockfile

run: install ## Serve the API on http://$${HOST:-127.0.0.1}:$${PORT:-8000} (SQLite + demo data by default)
	$(BIN)/shop serve

test: install ## Run the test suite (SQLite always; PostgreSQL and Redis when reachable)
	$(BIN)/python -m pytest

fuzz: install ## A longer Schemathesis run than the one in `make test` (FUZZ_EXAMPLES per field)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(BIN)/python -m pytest -m fuzz

lint: install ## ruff, the schema contract and the Dockerfile lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/shop export-schema --check
	$(BIN)/hadolint Dockerfile

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install ## Regenerate schema.graphql from the code
	$(BIN)/shop export-schema

migrations: install ## Write a migration for model changes
	$(BIN)/shop makemigrations

seed: install ## Load the demo catalog into the configured database
	$(BIN)/shop seed

bench: bench-catalog bench-checkout bench-recommendations bench-fanout ## Run every benchmark (PostgreSQL + Redis)

bench-catalog: install ## products(first: 50) vs hand-written and bare graphql-core baselines
	$(BIN)/python -m bench.catalog

bench-checkout: install ## Checkouts/s with 50 concurrent buyers, oversells
	$(BIN)/python -m bench.checkout

bench-recommendations: install ## recommendations(first: 10) vs a raw VW loop
	$(BIN)/python -m bench.recommendations

bench-fanout: install ## 1,000 and 5,000 websocket subscribers vs a bare websocket endpoint
	$(BIN)/python -m bench.fanout

ci: ## What CI runs (.ci/run)
	.ci/run

clean: ## Remove the environments and local data
	rm -rf $(VENV) .tools data .pytest_cache .ruff_cache
