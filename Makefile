# auditdash: the two commands a newcomer needs are `make run` and `make test` (see README).
PYTHON ?= python3.11
PYTEST_ARGS ?= -n 2
VENV := .venv
BIN := $(VENV)/bin
HTMX_VERSION := 2.0.11
HTMX := static/vendor/htmx.min.js

.PHONY: run test test-sqlite test-postgres lint bench demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# htmx comes from the npm registry at a pinned version; it is not committed.
$(HTMX):
	mkdir -p var/npm static/vendor
	cd var/npm && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null
	tar -xzf var/npm/htmx.org-$(HTMX_VERSION).tgz -C var/npm package/dist/htmx.min.js
	cp var/npm/package/dist/htmx.min.js $@

setup: $(VENV)/.installed $(HTMX)

run: setup
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)
