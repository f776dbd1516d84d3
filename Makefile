# The README's commands. Everything installs into .venv/ at the project root.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export C360_DBT_TARGET_PATH ?= target

.PHONY: setup demo test lint ui docs clean

setup: $(VENV)/.installed

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set, every c360 and dbt
# process would otherwise compile dagster and dbt again (~10 s per start).
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e .
	$(BIN)/python -m compileall -q dagster_project
	$(BIN)/python -c "from dagster_project.cli import ensure_dagster_home; ensure_dagster_home()"
	@touch $@

demo: setup
	$(BIN)/c360 refresh
	$(BIN)/c360 report

test: setup
	$(BIN)/pytest
	$(MAKE) lint

lint: setup
	C360_WORK_DB=$$(mktemp -d)/lint.duckdb $(BIN)/sqlfluff lint dbt/models --disable-progress-bar --nocolor

docs: setup
	cd dbt && C360_WORK_DB=$(CURDIR)/warehouse/c360.work.duckdb ../$(BIN)/dbt docs generate

ui: setup
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf warehouse dbt/target dbt/logs .pytest_cache
