# Two entry points (see README "Quickstart"); everything else is plain Python/Dagster.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-py312 lint dev ui screenshots bench lead stuck

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed  ## run the whole pipeline on the sandbox and print the funnel
	$(BIN)/python -m kroton_pipeline.demo

# Two parts: the tests that can share the machine run on parallel workers (the UI tests on
# one worker, the two deployment tests on another), then the PostgreSQL restart, which must
# run alone. The tests wait on HTTP, subprocesses and the database more than they compute:
# 4 workers on the 2-core CI machine finish the first part in about 6 minutes.
TEST_WORKERS ?= 4
test: $(BIN)/.installed  ## the test suite (PostgreSQL at 127.0.0.1:5432 when reachable)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "not serial"
	$(BIN)/python -m pytest -m serial

# The same project on a second interpreter, in its own virtual environment: the tests that
# need neither PostgreSQL nor the sandbox's slow scenarios (CI runs it beside `make test`).
PYTHON312 ?= python3.12
VENV312 ?= .venv-py312
$(VENV312)/bin/.installed: pyproject.toml
	$(PYTHON312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet --upgrade pip
	$(VENV312)/bin/python -m pip install --quiet -e '.[dev]'
	touch $@

test-py312: $(VENV312)/bin/.installed  ## the unit tests on Python 3.12
	$(VENV312)/bin/python -m pytest -n auto -m "not integration and not slow and not serial"

lint: $(BIN)/.installed  ## ruff, and the import contracts of pyproject.toml (imports run downward)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/lint-imports

ui: $(BIN)/.installed  ## run the demo, then the Dagster UI on its instance (sandbox kept serving)
	$(BIN)/python -m kroton_pipeline.demo --ui

# VIRTUAL_ENV: dg otherwise warns that the active virtual environment does not match.
dev: $(BIN)/.installed  ## the Dagster UI on your own settings (DAGSTER_HOME, KROTON_*)
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/dg dev

screenshots: $(BIN)/.installed  ## docs/screenshots/*.png from headless Chromium
	$(BIN)/python scripts/screenshots.py --out docs/screenshots

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

lead: $(BIN)/.installed  ## one lead's story: make lead ID=<subscription id>, or make lead (asks for the CPF)
	@$(BIN)/python -m kroton_pipeline.lead $(ID)

stuck: $(BIN)/.installed  ## leads waiting too long, per import date
	@$(BIN)/python -m kroton_pipeline.support.stuck
