# Two commands on a fresh machine: `make run` and `make test` (README).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in emails and the URL seed_demo prints follow the address the server listens on.
export SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: run serve test setup messages browser lint typecheck pytest migrate demo bench bench-pg-1m clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# axe-core (pinned in package.json / package-lock.json) for the browser tests' accessibility
# checks; Playwright injects node_modules/axe-core/axe.min.js into each page.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq npm >/dev/null; \
	  else echo "Install npm first: sudo apt-get install npm"; exit 1; fi; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(AXE)

# Compiled catalogs (issue 14): locale/<lang>/LC_MESSAGES/*.mo are built from the committed .po
# files, never committed; msgfmt (GNU gettext) is what Django's compilemessages runs too.
PO := $(wildcard locale/*/LC_MESSAGES/*.po)
MO := $(PO:.po=.mo)
locale/%.mo: locale/%.po
	@command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq gettext >/dev/null; \
	  else echo "Install GNU gettext first: sudo apt-get install gettext"; exit 1; fi; }
	msgfmt --check-format -o $@ $<

messages: $(MO)

setup: $(STAMP) $(AXE) messages

# Browser tests drive Debian's Chromium; install it when missing (we never download a browser
# through a test tool).
browser: $(AXE)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Chromium first: sudo apt-get install chromium"; exit 1; fi; }

migrate: setup
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --if-empty

# Web server, Celery worker and Celery beat together; one Ctrl-C stops all three.
run: demo
	@echo ""
	@echo "  Partner Hub: http://$(HOST):$(PORT)/   (support console: http://$(HOST):$(PORT)/admin/)"
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho -f Procfile start

# Production: gunicorn (WEB_CONCURRENCY workers), one Celery worker and exactly one beat, with
# the production settings, behind a TLS proxy (README "Running in production"). No demo data.
serve: setup
	DJANGO_SETTINGS_MODULE=partnerhub.settings.production $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=partnerhub.settings.production $(PY) manage.py collectstatic --noinput
	DJANGO_SETTINGS_MODULE=partnerhub.settings.production HOST=$(HOST) PORT=$(PORT) \
	  $(VENV)/bin/honcho -f Procfile.production start

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	DJANGO_SETTINGS_MODULE=partnerhub.settings.test $(VENV)/bin/mypy

# The suite runs on PYTEST_WORKERS processes (pytest-xdist, each with its own test database);
# tests that must share a process carry one xdist_group. PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 2
pytest: setup browser
	$(PY) manage.py makemigrations --check --dry-run --settings=partnerhub.settings.test
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

test: lint typecheck pytest

# Every benchmark script in bench/ at its small default size (SQLite), one after the other;
# each prints its own figures. `make bench BENCH_PG_1M=1` adds the runs at 1,000,000 customers
# on PostgreSQL (minutes; the database in BENCH_PG_URL must exist, it is seeded when empty):
# the customer list, the HTTP load test and the idle tick (its first tick does the seed day's
# few due items, then three idle ticks are timed and every statement is explained).
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/bench_1m
bench: setup
	@for script in bench/[a-z]*.py; do \
	  case $$script in bench/run_all.py) continue;; esac; \
	  echo "=== $$script"; nice -n 10 $(PY) $$script || exit 1; done
ifdef BENCH_PG_1M
	$(MAKE) --no-print-directory bench-pg-1m
endif

bench-pg-1m: setup
	@echo "=== PostgreSQL, 1,000,000 customers ($(BENCH_PG_URL))"
	DATABASE_URL=$(BENCH_PG_URL) nice -n 10 $(PY) bench/customer_list.py --customers 1000000 --runs 5
	DATABASE_URL=$(BENCH_PG_URL) nice -n 10 $(PY) bench/http_load.py --customers 1000000
	DATABASE_URL=$(BENCH_PG_URL) nice -n 10 $(PY) bench/tick.py --existing --explain

clean:
	rm -rf $(VENV) var staticfiles node_modules .pytest_cache .mypy_cache .ruff_cache $(MO)
