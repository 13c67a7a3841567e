# The lender portal's everyday commands. `make run` and `make test` are the quick start.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= portal.settings.base

.PHONY: run setup install migrate seed test lint format check clean bench loadtest

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

install: $(BIN)/activate

## Set everything up and serve the portal with the seed data and demo accounts.
run: setup
	@bin/run-portal $(PORT)

setup: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_seed_documents
	$(BIN)/python manage.py create_demo_accounts
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0

## The whole suite: PostgreSQL and Redis where DATABASE_URL / REDIS_URL point, SQLite otherwise.
test: install
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache db.sqlite3 .celerybeat-schedule*
