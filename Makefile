# The two commands that work on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
# Production-like settings for the test suite (DEBUG off), minus HTTPS, which tests lack.
TEST_ENV := DEBUG=0 SECRET_KEY=tests-only-not-a-secret SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 \
	ALLOWED_HOSTS=127.0.0.1,localhost,testserver CHROMIUM=$(CHROMIUM)

# The second pass: the same suite on the engines a multi-process site runs on.
SERVICES_ENV := DATABASE_URL=postgres://chatsite:chatsite@127.0.0.1:5432/chatsite \
	REDIS_URL=redis://127.0.0.1:6390/0

NODE_MODULES := node_modules/.installed
# The translations (locale/*/LC_MESSAGES/*.po), compiled by gettext's msgfmt.
MESSAGES := locale/.compiled
LANGUAGE_CODES := de es fr zh_Hans
MAKEMESSAGES_IGNORE := --ignore .venv --ignore node_modules --ignore staticfiles --ignore tests \
	--ignore bench --ignore .lockvenv

.PHONY: messages run test typecheck pytest pytest-services services bench bench-api bench-tools bench-documents bench-import bench-admin lint format check-deploy admin packages lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The locks pin every package with the sha256 of its files: pip installs exactly those files,
# and refuses any other (and anything unpinned).
$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

# The browser libraries (markdown, sanitiser, highlighting, math), exactly as the lockfile
# pins them; served as static files from node_modules (chatsite/vendor.py).
$(NODE_MODULES): package-lock.json
	scripts/install-packages run
	npm ci --no-audit --no-fund
	touch $@

$(MESSAGES): $(wildcard locale/*/LC_MESSAGES/*.po)
	scripts/install-packages run
	for po in $^; do msgfmt --check -o "$${po%.po}.mo" "$$po" || exit 1; done
	touch $@

## Gather every translatable text into locale/*/LC_MESSAGES/ (django.po, djangojs.po); the
## texts new since the last time are then left to translate (tests/site/test_translations.py
## fails until they are).
messages: $(VENV)/.runtime
	$(TEST_ENV) $(BIN)/python manage.py makemessages $(MAKEMESSAGES_IGNORE) --no-obsolete \
		--no-location $(addprefix --locale ,$(LANGUAGE_CODES))
	$(TEST_ENV) $(BIN)/python manage.py makemessages -d djangojs $(MAKEMESSAGES_IGNORE) --no-obsolete \
		--no-location $(addprefix --locale ,$(LANGUAGE_CODES))

## Set up and serve the site on http://$(HOST):$(PORT) (SQLite, in-memory channel layer,
## and the offline demo provider unless LLM_BASE_URL is set).
run: $(VENV)/.runtime $(NODE_MODULES) $(MESSAGES)
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py recover_streams --all
	DEBUG=$${DEBUG-1} $(BIN)/python -m chatsite.serve -b $(HOST) -p $(PORT) chatsite.asgi:application

## Set up and run every check and test: lint, format, Django checks, pytest (browser included).
test: packages $(VENV)/.dev $(NODE_MODULES) $(MESSAGES)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(TEST_ENV) $(BIN)/python manage.py check
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory check-deploy
	$(MAKE) --no-print-directory pytest ARGS=
	$(MAKE) --no-print-directory pytest-services ARGS=

## Every test again on real PostgreSQL and Redis, installed and started on loopback.
pytest-services: $(VENV)/.dev services
	$(TEST_ENV) $(SERVICES_ENV) $(BIN)/pytest $(ARGS)

services:
	scripts/test-services

## mypy with the django-stubs plugin, which imports the settings (pyproject.toml).
typecheck: $(VENV)/.dev
	$(TEST_ENV) $(BIN)/mypy chat chatsite

## Run some tests only, e.g. make pytest ARGS="-k stop tests/realtime/test_consumer_stop.py"
pytest: $(VENV)/.dev $(NODE_MODULES) $(MESSAGES)
	$(TEST_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(BIN)/pytest $(ARGS)

## `manage.py check --deploy` with production settings must be clean.
check-deploy: $(VENV)/.runtime
	DEBUG=0 SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9) \
	ALLOWED_HOSTS=chat.example.org CSRF_TRUSTED_ORIGINS=https://chat.example.org \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

## The relay benchmark: writes its table and plot into docs/benchmarks.md.
bench: $(VENV)/.dev $(NODE_MODULES)
	$(BIN)/python -m bench.relay $(ARGS)

## The API (/v1) beside the upstream: writes its table into docs/benchmarks.md.
bench-api: $(VENV)/.dev
	$(BIN)/python -m bench.api $(ARGS)

## One MCP tool call against real servers, and the SDK's cost: a table in docs/benchmarks.md.
bench-tools: $(VENV)/.dev
	$(BIN)/python -m bench.tools $(ARGS)

## Documents: reading, indexing and searching a 500-page PDF; a table in docs/benchmarks.md.
bench-documents: $(VENV)/.dev
	$(BIN)/python -m bench.documents $(ARGS)

## Importing a ChatGPT export of 1,000 conversations; a line in docs/benchmarks.md.
bench-import: $(VENV)/.dev
	$(BIN)/python -m bench.importing $(ARGS)

## The admin on 1,000,000 usage rows: writes its table into docs/benchmarks.md.
bench-admin: $(VENV)/.dev
	$(BIN)/python -m bench.admin_scale $(ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Create the first admin account (asks for a username and password).
admin: $(VENV)/.runtime
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py createsuperuser

## Every Debian package the tests need, in one step before any test runs: chromium (Playwright
## cannot download its own here), nginx, PostgreSQL, Redis, nodejs and npm.
packages:
	CHROMIUM=$(CHROMIUM) scripts/install-packages test

# The locks are made by uv, pinned, in a throwaway virtualenv, for Python 3.11 on Linux,
# with the hashes of every file of each pinned release and the markers that still matter
# (Debian's Python 3.11.2 needs async-timeout, 3.11.3 and later do not).
UV_COMPILE = .lockvenv/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform linux --no-strip-markers --custom-compile-command 'make lock' $(ARGS)

## Re-pin every dependency from pyproject.toml, with its hashes. Present pins are kept wherever
## pyproject.toml allows; the dev lock is resolved within the runtime lock, so both pin the
## same versions. Upgrade: make lock ARGS=--upgrade (one package: ARGS='-P django').
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV_COMPILE) pyproject.toml -o requirements.lock
	$(UV_COMPILE) pyproject.toml --extra dev -c requirements.lock -o requirements-dev.lock
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) staticfiles node_modules .pytest_cache .ruff_cache $(MESSAGES) locale/*/LC_MESSAGES/*.mo
