# mirror-trade: `make demo` sets everything up and runs the pipeline; `make test` runs the tests.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: demo setup test lint dev lock clean benchmark

demo: setup
	$(BIN)/mirror-trade demo

setup: $(VENV)/.installed

# The quiet steps take minutes: each says first what it is doing.
$(VENV)/.installed: requirements.lock pyproject.toml
	@echo "setup: creating the virtualenv $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "setup: installing the pinned dependencies of requirements.lock (a few minutes)"
	$(BIN)/pip install --quiet -r requirements.lock
	@echo "setup: installing mirror-trade itself (editable)"
	$(BIN)/pip install --quiet --no-deps -e .
	@echo "setup: parsing the dbt project (dbt_project/target/manifest.json)"
	$(BIN)/python -c "from orchestration.lib.dbt_manifest import ensure_manifest; ensure_manifest()"
	touch $@

# The test modules run in two processes (pytest-xdist), a module and its fixtures in one of them, handed out in
# the order tests/conftest.py gives them (the longest first).
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The Dagster UI: asset graph, checks and the nightly schedule. Loading the code location parses the dbt project.
dev: setup
	DAGSTER_HOME=$${DAGSTER_HOME:-$${MIRROR_TRADE_HOME:-$$(pwd)/data}/dagster} \
		sh -c 'mkdir -p "$$DAGSTER_HOME" && { [ -f "$$DAGSTER_HOME/dagster.yaml" ] || cp orchestration/dagster.yaml "$$DAGSTER_HOME/"; } && $(BIN)/dagster dev'

# Performance at real Comext scale (about 25 minutes, ~9 GB in benchmarks/work/); writes docs/benchmarks.md.
benchmark: setup
	$(BIN)/python -m benchmarks.run

# Re-resolve the pinned set (needs uv from PyPI: `pip install uv`).
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
