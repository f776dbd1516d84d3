# The README's commands. Everything installs into .venv/ at the project root.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup demo test lint ui docs clean browser

setup: $(VENV)/.installed

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set, every c360 and dbt
# process would otherwise compile dagster and dbt again (~10 s per start).
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e .
	$(BIN)/python -m compileall -q dagster_project
	@touch $@

demo: setup
	$(BIN)/c360 refresh
	$(BIN)/c360 report

# The test extra (the headless-browser driver) installs here only: `make demo` stays light.
test: setup browser
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[test]'
	$(BIN)/pytest
	$(MAKE) lint

# The dashboard test drives Debian's chromium (headless, network off). Installed where missing and
# we are root (CI); elsewhere that test is skipped with the reason.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && apt-get install -y chromium; \
	fi

lint: setup
	$(BIN)/sqlfluff lint dbt/models --disable-progress-bar --nocolor

docs: setup
	cd dbt && ../$(BIN)/dbt docs generate --vars "$$(../$(BIN)/c360 dbt-vars)"

ui: setup
	$(BIN)/c360 prepare
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf warehouse dbt/target dbt/logs .pytest_cache
