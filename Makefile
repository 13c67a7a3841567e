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
	# The demo figures raise alerts about 1999-2001; their e-mails are discarded, the inbox keeps them.
	EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend $(BIN)/python manage.py load_demo_figures
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

## Benchmarks against the floor of this machine, written to docs/benchmarks.md (under 10 minutes).
## PostgreSQL (the server of DATABASE_URL, else postgres://postgres@127.0.0.1:5432; database
## portal_bench, dropped and recreated) and Redis (REDIS_URL, else redis://127.0.0.1:6379/0).
bench: install
	$(BIN)/python -m benchmarks.run

## Load test: 50 users for 60 s against gunicorn, PostgreSQL, a worker and beat (docs/reliability.md).
loadtest: install
	loadtest/run.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache db.sqlite3 .celerybeat-schedule*
