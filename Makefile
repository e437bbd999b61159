# auditdash: the two commands a newcomer needs are `make run` and `make test` (see README).
PYTHON ?= python3.11
PYTEST_ARGS ?= -n 2
VENV := .venv
BIN := $(VENV)/bin
HTMX_VERSION := 2.0.11
HTMX := static/vendor/htmx.min.js
# The pinned sets, layered: the web app, the scanners it runs, then tests and dev tools.
RUN_REQUIREMENTS := requirements.txt requirements-tools.txt
DEV_REQUIREMENTS := $(RUN_REQUIREMENTS) requirements-dev.txt
PIP_COMPILE := $(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: setup run serve test lint bench load requirements

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Running needs the app and the scanners (the demo scans a repository with bandit and ruff).
$(VENV)/.installed-run: $(RUN_REQUIREMENTS) | $(BIN)/python
	$(BIN)/pip install --quiet $(addprefix -r ,$(RUN_REQUIREMENTS))
	touch $@

# Tests and linting need all three sets.
$(VENV)/.installed-dev: $(DEV_REQUIREMENTS) | $(BIN)/python
	$(BIN)/pip install --quiet $(addprefix -r ,$(DEV_REQUIREMENTS))
	touch $@ $(VENV)/.installed-run

# htmx comes from the npm registry at a pinned version; it is not committed.
$(HTMX):
	mkdir -p var/npm static/vendor
	cd var/npm && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null
	tar -xzf var/npm/htmx.org-$(HTMX_VERSION).tgz -C var/npm package/dist/htmx.min.js
	cp var/npm/package/dist/htmx.min.js $@

# Everything a developer needs: all three sets and htmx.
setup: $(VENV)/.installed-dev $(HTMX)

run: $(VENV)/.installed-run $(HTMX)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

# Production: gunicorn with gunicorn.conf.py (gthread: a process per core, 4 threads each; see
# docs/performance.md, "Serving pages"). Set DATABASE_URL, CELERY_BROKER_URL, CACHE_URL,
# SECRET_KEY and ALLOWED_HOSTS first; WEB_CONCURRENCY and GUNICORN_THREADS override the sizes.
serve: $(VENV)/.installed-run $(HTMX)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/gunicorn --config gunicorn.conf.py auditdash.wsgi

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Pages under load: 50 users on gunicorn over loopback for 30 s (bench/README.md).
load: setup
	$(BIN)/python bench/load.py $(LOAD_ARGS)

# Re-pin after editing a requirements*.in file: each set keeps its current pins where it can,
# and the tools and dev sets are compiled within the ones before them (`-c` in the .in files).
requirements: $(VENV)/.installed-dev
	$(PIP_COMPILE) requirements.in
	$(PIP_COMPILE) requirements-tools.in
	$(PIP_COMPILE) requirements-dev.in
