# The one place to find project tasks. `make run` and `make test` set everything up.
PYTHON ?= python3
NPM ?= npm
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help install run test fuzz lint format schema migrations seed worlds bench bench-catalog bench-profile bench-checkout bench-recommendations bench-fanout bench-persisted bench-decision-service loadtest client client-install client-build e2e ci clean

help: ## List the tasks
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(BIN)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked
	@touch $@

install: $(BIN)/.synced ## Create .venv from the lockfile

run: install ## Serve the API on http://$${HOST:-127.0.0.1}:$${PORT:-8000} (SQLite + demo data by default)
	$(BIN)/shop serve

test: install ## Run the test suite (SQLite always; PostgreSQL and Redis when reachable)
	$(BIN)/python -m pytest

fuzz: install ## Longer Schemathesis and stateful runs than `make test` (FUZZ_EXAMPLES, STATEFUL_EXAMPLES)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} STATEFUL_EXAMPLES=$${STATEFUL_EXAMPLES:-200} \
		STATEFUL_STEPS=$${STATEFUL_STEPS:-40} $(BIN)/python -m pytest -m fuzz

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

worlds: install ## The world suite: every world, 3 seeds, 20k slates (hours; stored runs are reused)
	nice -n 10 $(BIN)/shop bandit simulate --world all --slates $${SLATES:-20000} --seeds 3 --jobs $${JOBS:-2}

bench: bench-catalog bench-checkout bench-recommendations bench-fanout bench-persisted bench-decision-service ## Run every benchmark (PostgreSQL + Redis)

bench-catalog: install ## catalog, order, cart, recommendations: both executors vs bare graphql-core and hand-written
	$(BIN)/python -m bench.catalog

bench-profile: install ## CPU per catalog request in process (both executors, both baselines) and its top frames
	$(BIN)/python -m bench.profile_request --profile

bench-checkout: install ## Checkouts/s with 50 concurrent buyers, oversells
	$(BIN)/python -m bench.checkout

bench-recommendations: install ## recommendations(first: 10) vs a raw VW loop
	$(BIN)/python -m bench.recommendations

bench-fanout: install ## 1,000 and 5,000 websocket subscribers vs a bare websocket endpoint
	$(BIN)/python -m bench.fanout

bench-persisted: install ## The same operation as a full document vs a persisted id (req/s)
	$(BIN)/python -m bench.persisted

bench-decision-service: install ## 1/2/4 servers + the learner: learning CPU, snapshot propagation, p99, learner vs raw VW
	$(BIN)/python -m bench.decision_service
	$(BIN)/python -m bench.decision_log_size --database-url $${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shopgraph_bench}

loadtest: install ## A day in the shop (Locust processes) vs shop serve --workers 1 and 2, prod mode, PostgreSQL + Redis
	$(BIN)/python -m bench.loadtest.run $(LOADTEST_ARGS)

CLIENT_DEPS := client/node_modules/.installed

# --loglevel=error: codegen's remote-schema loaders (unused: the schema is a local file)
# declare Node >= 22 and would print ~80 EBADENGINE warnings on Node 20.
$(CLIENT_DEPS): client/package.json client/package-lock.json
	cd client && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

client-install: $(CLIENT_DEPS) ## Install the reference client's dependencies (npm ci)

client: $(CLIENT_DEPS) ## Run the React client on http://127.0.0.1:5173 (start the API with `make run`)
	cd client && $(NPM) run dev

client-build: $(CLIENT_DEPS) ## Typecheck (types generated from schema.graphql) and build the client
	cd client && $(NPM) run build

e2e: install $(CLIENT_DEPS) ## Browser tests of GraphiQL and the client (Debian's chromium)
	cd client && $(NPM) run e2e

ci: ## What CI runs (.ci/run)
	.ci/run

clean: ## Remove the environments and local data
	rm -rf $(VENV) .tools data .pytest_cache .ruff_cache artifacts client/node_modules client/dist
