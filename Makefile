# Two commands for a fresh machine: `make run` (the bot) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint migrate bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run  ## set up and run the bot (settings from .env)
	$(BIN)/python -m bot run

migrate: $(VENV)/.installed-run
	$(BIN)/python -m bot migrate

test: $(VENV)/.installed-dev  ## set up and run lint, types (code and tests), every test, coverage
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage report

bench: $(VENV)/.installed-dev  ## the benchmarks (figures in the README)
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/interactive.py
	$(BIN)/python bench/progress.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
