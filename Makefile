# mirror-trade: `make demo` sets everything up and runs the pipeline; `make test` runs the tests.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: demo setup test lint dev lock clean benchmark

demo: setup
	$(BIN)/mirror-trade demo

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -c "from orchestration.lib.dbt_manifest import ensure_manifest; ensure_manifest()"
	touch $@

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The Dagster UI: asset graph, checks and the nightly schedule.
dev: setup
	$(BIN)/python -c "from orchestration.lib.dbt_manifest import ensure_manifest; ensure_manifest()"
	DAGSTER_HOME=$${DAGSTER_HOME:-$${MIRROR_TRADE_HOME:-$$(pwd)/data}/dagster} \
		sh -c 'mkdir -p "$$DAGSTER_HOME" && { [ -f "$$DAGSTER_HOME/dagster.yaml" ] || cp orchestration/dagster.yaml "$$DAGSTER_HOME/"; } && $(BIN)/dagster dev'

# Performance at real Comext scale (about 25 minutes, ~9 GB in benchmarks/work/); writes docs/benchmarks.md.
benchmark: setup
	$(BIN)/python -m benchmarks.run

# Re-resolve the pinned set (needs uv from PyPI: `pip install uv`).
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
