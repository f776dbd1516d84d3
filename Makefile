# The README's commands. Everything installs into .venv/ at the project root.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup demo test lint ui docs docs-serve clean browser

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

# The analysts' catalogue: dbt docs over the published mart (C360_WAREHOUSE, opened read-only by
# the profile's `published` target), so the catalog shows what BI tools read, with every column's
# description; its own target folder, so the refresh's manifest is never touched.
CATALOGUE ?= $(CURDIR)/dbt/target/catalogue
DOCS_PORT ?= 8080

docs: setup
	@vars="$$($(BIN)/c360 dbt-vars)" && \
	warehouse="$$($(BIN)/python -c 'import json, sys; print(json.loads(sys.argv[1])["warehouse"])' "$$vars")" && \
	{ test -f "$$warehouse" || { echo "no published mart at $$warehouse: run make demo (or c360 refresh) first"; exit 1; }; } && \
	cd dbt && ../$(BIN)/dbt --quiet docs generate --static --target published --vars "$$vars" \
		--target-path "$(CATALOGUE)" --log-path "$(CATALOGUE)/logs" && \
	echo "catalogue of $$warehouse: $(CATALOGUE)/static_index.html (make docs-serve: http://localhost:$(DOCS_PORT))"

docs-serve: setup
	@test -f "$(CATALOGUE)/catalog.json" || $(MAKE) --no-print-directory docs
	cd dbt && ../$(BIN)/dbt docs serve --target published --vars "$$(../$(BIN)/c360 dbt-vars)" \
		--target-path "$(CATALOGUE)" --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

ui: setup
	$(BIN)/c360 prepare
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf warehouse dbt/target dbt/logs .pytest_cache
