# regulars: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck layers unit pg-check serve bench migration clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Set up, build the demo business into regulars.db, book its points' maturity and expiry
## (the nightly job), and start the server.
demo: $(STAMP)
	$(BIN)/regulars demo
	$(BIN)/regulars loyalty expire
	$(BIN)/regulars serve

## Set up and run everything CI runs: lint, types, layers, all tests (SQLite and PostgreSQL).
test: $(STAMP) lint typecheck layers
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

serve: $(STAMP)
	$(BIN)/regulars serve

## Before the first release the schema is one migration, regenerated from the tables.
migration: $(STAMP)
	rm -f src/regulars/store/migrations/versions/0001_initial_schema.py
	tmp=$$(mktemp -d) && REGULARS_DATABASE_URL=sqlite:///$$tmp/m.db $(BIN)/alembic -c alembic.ini \
	  -x url=sqlite:///$$tmp/m.db revision --autogenerate -m "initial schema" --rev-id 0001 && rm -rf $$tmp
	$(BIN)/ruff format src/regulars/store/migrations/versions

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
