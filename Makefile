# The lender portal's everyday commands. `make run` and `make test` are the quick start.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Test processes (pytest-xdist): one more than the cores by default. Many tests spend their time
# waiting on processes of their own (Celery workers, Chromium, a PostgreSQL being restarted), and
# the extra process keeps the cores busy meanwhile.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(len(os.sched_getaffinity(0)) + 1)")
export DJANGO_SETTINGS_MODULE ?= portal.settings.base

# requirements.txt (the runtime set: a production install) and requirements-dev.txt (that and
# every dependency group of pyproject.toml: tests, browser, load, development tools) are
# exported from uv.lock by `make lock`; never edited by hand.
EXPORT = $(BIN)/uv export --frozen --quiet --no-hashes --no-emit-project --no-header
export-runtime = { echo "\# The runtime set, exported from uv.lock by make lock (do not edit): what production installs."; $(EXPORT) --no-default-groups; }
export-dev = { echo "\# Everything make install installs, exported from uv.lock by make lock (do not edit): the runtime set and every dependency group."; $(EXPORT) --all-groups; }

.PHONY: run setup install lock lock-check migrate seed test lint typecheck format check clean bench bench-scale loadtest

$(BIN)/activate: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate

## Resolve pyproject.toml's dependencies again into uv.lock and export both requirements files.
## `make lock LOCK_ARGS=--upgrade` moves every pin to its newest release.
lock: install
	$(BIN)/uv lock $(LOCK_ARGS)
	$(export-runtime) > requirements.txt
	$(export-dev) > requirements-dev.txt

## uv.lock matches pyproject.toml, and both requirements files match uv.lock (no network needed).
lock-check: install
	$(BIN)/uv lock --check --offline --quiet
	diff -u requirements.txt <($(export-runtime))
	diff -u requirements-dev.txt <($(export-dev))

## Set everything up and serve the portal with the seed data and demo accounts.
run: setup
	@bin/run-portal $(PORT)

setup: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_seed_documents
	$(BIN)/python manage.py create_demo_accounts
	# The demo figures raise alerts about 1999-2001; their e-mails are discarded, the inbox keeps them.
	# Tasks run in-process here (no REDIS_URL), so the e-mails go through this backend now rather
	# than wait in Redis for a worker that would print them.
	env -u REDIS_URL EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend $(BIN)/python manage.py load_demo_figures
	# The seeds state no commitments: demo ones (flagged demo wherever they show) for the consent tallies.
	$(BIN)/python manage.py load_demo_commitments
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0

## The whole suite, on every core (PYTEST_WORKERS processes): PostgreSQL and Redis where DATABASE_URL / REDIS_URL point,
## SQLite otherwise. Tests sharing a service run on one process (tests/conftest.py).
test: install
	$(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install lock-check typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

## mypy, strict, on the modules listed in pyproject.toml ([tool.mypy] files).
typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks against the floor of this machine, written to docs/benchmarks.md (under 10 minutes),
## with the hand-written parts kept in benchmarks/notes/. PostgreSQL (the server of DATABASE_URL,
## else postgres://postgres@127.0.0.1:5432; database portal_bench, dropped and recreated as a copy
## of template databases kept between runs: the migrated schema, the generated portfolio) and Redis
## (REDIS_URL, else redis://127.0.0.1:6379/0). The first run after a migration or a change to the
## generator makes the templates again (a few minutes more).
bench: install
	$(BIN)/python -m benchmarks.run

## Not in CI: 100,000 agreements (SCALE_AGREEMENTS) generated and evaluated over one Celery worker
## per core (SCALE_WORKERS); wall time, throughput per worker, queue overhead, peak memory per
## worker and storage per 10,000 agreements, written to docs/benchmarks-scale.md and into
## docs/benchmarks.md's "Beyond one machine". Same database and Redis as `make bench` (dropped and
## recreated); an hour or more on a 2-core machine.
SCALE_AGREEMENTS ?= 100000
bench-scale: install
	$(BIN)/python -m benchmarks.scale --agreements $(SCALE_AGREEMENTS) $(if $(SCALE_WORKERS),--workers $(SCALE_WORKERS))

## Load test: 50 users for 60 s against gunicorn, PostgreSQL, a worker and beat (docs/reliability.md).
loadtest: install
	loadtest/run.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache db.sqlite3 .celerybeat-schedule*
