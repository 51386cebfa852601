# Thin entry points; each target sets up .venv first (Python 3.11 and pip are all it needs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TAPS := $(wildcard tap-*)
# Each tap's tests run in their own pytest process (each tap is its own package); then the cross-tap tests.
SUITES := $(TAPS:%=%/tests) tests

.PHONY: setup demo lint test bench clean orchestrate dagster-ui dagster-job

setup: $(VENV)/.ready

$(VENV)/.ready: requirements-dev.txt pyproject.toml $(TAPS:%=%/pyproject.toml) meltano.yml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e . $(TAPS:%=-e ./%)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/meltano install
	touch $@

demo: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/demo.py

# The optional orchestration stack (Dagster, Celery, Meltano on PostgreSQL) for its tests and benchmark only:
# the demo's set-up stays without it.
$(VENV)/.orchestrate: $(VENV)/.ready requirements-orchestrate.txt
	$(BIN)/python -m pip install --quiet -r requirements-orchestrate.txt
	touch $@

# The Dagster UI in a virtualenv of its own (requirements-ui.txt says why).
.venv-ui/.ready: requirements-ui.txt
	$(PYTHON) -m venv .venv-ui
	.venv-ui/bin/python -m pip install --quiet --upgrade pip
	.venv-ui/bin/python -m pip install --quiet -r requirements-ui.txt
	touch $@

orchestrate: $(VENV)/.orchestrate .venv-ui/.ready

# One machine, nothing else installed: an embedded PostgreSQL, then the UI (with the daemon and the code server)
# on http://127.0.0.1:3000, or one run of ads_shards.
dagster-ui: orchestrate
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m orchestrate.local ui

dagster-job: orchestrate
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m orchestrate.local job

# Lint and types first: ruff over the repository, mypy over the three packages (configured in pyproject.toml).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint orchestrate
	@status=0; for suite in $(SUITES); do \
		echo "==> pytest $$suite"; \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $$suite || status=1; \
	done; exit $$status

# Tables with their targets (PASS/MISS): throughput of every report stream against a bare baseline; the main
# report streams at 1 and 20 accounts, 0 and 200 ms of latency; tap-adroll beside singer-io tap-adroll 1.2.1
# (installed into .venv-peer/ on first use); the main report streams and tap-rokt's discovery at 20 and 200
# accounts with 1, 4 and 8 requests in flight (benchmarks/inflight.py); MediaMath's streamed answer at two sizes
# (flat memory); then the sharded Dagster job's wall time at 1, 2 and 4 shards.
bench: setup $(VENV)/.orchestrate
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/bench.py --repeat 2 --json output/bench.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/mediamath_stream.py --sizes 50000,250000
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/shards.py

# What the set-up and the demo made; never output/warehouse.duckdb (prod's warehouse) nor .meltano/meltano.db
# (the system database: prod's state).
clean:
	rm -rf $(VENV) .venv-peer .venv-ui .meltano/extractors .meltano/loaders .meltano/utilities .meltano/run output/demo output/bench.json
