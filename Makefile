# SCF Platform: `make run` to try it, `make test` to check it. Both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

# The test suite runs against PostgreSQL and Redis on this machine; the application role is the
# unprivileged scf_app, the tables belong to scf_owner (see scripts/ensure-services).
TEST_ENV := DATABASE_URL=postgres://scf_owner@127.0.0.1:5432/scf \
	DATABASE_APP_URL=postgres://scf_app@127.0.0.1:5432/scf \
	REDIS_URL=redis://127.0.0.1:6379/15

.PHONY: install run test lint services demo migrate bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DATABASE_URL=$${DATABASE_OWNER_URL:-$${DATABASE_URL:-}} $(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	scripts/ensure-debian-packages fonts-noto-cjk
	scripts/run-all $(PORT)

services:
	scripts/ensure-services

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install services
	$(BIN)/ruff check .
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf var .pytest_cache .ruff_cache
