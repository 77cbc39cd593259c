# make run   - set up and start web, worker, beat, flower, relay and the sandbox on the embedded default
# make test  - set up and run the whole suite: embedded default, then PostgreSQL with RabbitMQ,
#              then PostgreSQL with Redis
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

WEB_PORT ?= 8000
FLOWER_PORT ?= 5555
export FLOWER_BASIC_AUTH ?= admin:flower

# The second and third passes of `make test` run on real servers (see .ci/run, which starts
# them). Redis database 15 is the suite's own: each integration test empties it.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/fulfillment
TEST_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672//
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: help install browser migrate run test test-embedded test-services test-redis lint format bench clean

help:
	@echo "make run    start the whole system (web, worker, beat, flower, relay, sandbox) on SQLite + filesystem broker"
	@echo "make test   run the whole test suite (embedded default, PostgreSQL + RabbitMQ, PostgreSQL + Redis)"
	@echo "make lint   ruff, import contracts, migrations check"
	@echo "make bench  run the benchmarks under bench/"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

install: $(BIN)/.installed

# Pages are checked in Debian's Chromium, driven by Playwright; never a browser download.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "Install Chromium first: sudo apt-get install chromium" >&2; exit 1; fi; }

migrate: install
	$(BIN)/python manage.py migrate --no-input -v 0

run: export DJANGO_DEBUG ?= true
run: export WEBHOOKS_ALLOW_PRIVATE_TARGETS ?= true
run: export WEB_PORT := $(WEB_PORT)
run: export FLOWER_PORT := $(FLOWER_PORT)
run: export FLOWER_URL ?= http://127.0.0.1:$(FLOWER_PORT)
run: export SANDBOX_URL ?= http://127.0.0.1:8700
run: export SANDBOX_CALLBACK_URL ?= http://127.0.0.1:$(WEB_PORT)/api/payments/callback/
run: migrate
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Admin      http://127.0.0.1:$(WEB_PORT)/admin/      login admin / admin"
	@echo "  API docs   http://127.0.0.1:$(WEB_PORT)/api/docs/   customers alice / alice, bob / bob"
	@echo "  Flower     http://127.0.0.1:$(FLOWER_PORT)/           login $(subst :, / ,$(FLOWER_BASIC_AUTH))"
	@echo "  Metrics    http://127.0.0.1:$(WEB_PORT)/metrics     health /healthz, readiness /readyz"
	@echo "  Sandbox    $(SANDBOX_URL)/v1/charges  payment provider and carrier (faults: POST /_admin/faults)"
	@echo ""
	@echo "  Place an order:"
	@echo "    TOKEN=\$$(curl -s -X POST -H 'Content-Type: application/json' -d '{\"username\":\"alice\",\"password\":\"alice\"}' http://127.0.0.1:$(WEB_PORT)/api/auth/token/ | $(PYTHON) -c 'import sys,json;print(json.load(sys.stdin)[\"token\"])')"
	@echo "    curl -s -X POST -H \"Authorization: Token \$$TOKEN\" -H 'Content-Type: application/json' -d '{\"lines\":[{\"sku\":\"MUG-LOGO\",\"quantity\":1}],\"payment_token\":\"tok_ok\"}' http://127.0.0.1:$(WEB_PORT)/api/orders/"
	@echo ""
	@echo "  Ctrl-C stops everything."
	@echo ""
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/honcho start -f Procfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SECRET_KEY=lint-only-secret-key $(BIN)/python manage.py makemigrations --check --dry-run -v 0

test: install browser lint test-embedded test-services test-redis

test-embedded: install
	@echo "== Test suite on the embedded default (SQLite + filesystem broker)"
	env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND $(BIN)/pytest

test-services: install
	@echo "== Test suite on PostgreSQL + RabbitMQ"
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  DJANGO_SECRET_KEY=test-only-secret-key $(BIN)/pytest

test-redis: install
	@echo "== Test suite on PostgreSQL + Redis"
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_REDIS_URL) \
	  DJANGO_SECRET_KEY=test-only-secret-key $(BIN)/pytest

# Benchmarks on PostgreSQL + RabbitMQ at 127.0.0.1 by default; flags through BENCH_ARGS,
# e.g. make bench BENCH_ARGS="--backend embedded --events 500" (see bench/README.md).
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var $(VENV) $(TOOLS)
