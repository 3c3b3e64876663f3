# Two entry points (see README "Quickstart"); everything else is plain Python/Dagster.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint dev bench lead stuck

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed  ## run the whole pipeline on the sandbox and print the funnel
	$(BIN)/python -m kroton_pipeline.demo

test: $(BIN)/.installed  ## the test suite (PostgreSQL at 127.0.0.1:5432 when reachable)
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

dev: $(BIN)/.installed  ## the Dagster UI on the sandbox
	$(BIN)/dg dev

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

lead: $(BIN)/.installed  ## one lead's story: make lead ID=<subscription id>, or make lead (asks for the CPF)
	@$(BIN)/python -m kroton_pipeline.lead $(ID)

stuck: $(BIN)/.installed  ## leads waiting too long, per import date
	@$(BIN)/python -m kroton_pipeline.support.stuck
