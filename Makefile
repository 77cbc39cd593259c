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

.PHONY: help install browser migrate run test test-embedded contract test-services test-redis test-prometheus test-bridges lint format bench bench-bridges clean

help:
	@echo "make run    start the whole system (web, worker, beat, flower, relay, sandbox) on SQLite + filesystem broker"
	@echo "make test   run the whole test suite (embedded default, PostgreSQL + RabbitMQ, PostgreSQL + Redis)"
	@echo "make lint   ruff, import contracts, migrations check"
	@echo "make contract  schemathesis (every check) against a live server, as a customer and as staff"
	@echo "make bench  run the benchmarks under bench/"
	@echo "make bench-bridges [QUICK=1]  the Kafka bridge against raw confluent-kafka, on tansu"

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
	@# Every process writes its metrics here (prometheus-client's multiprocess mode) and
	@# /metrics serves their sum: emptied at each start, so no old run's values count.
	rm -rf var/metrics && mkdir -p var/metrics
	@{ cat Procfile; $(BRIDGE_PROCESSES) } > var/Procfile.run
	PROMETHEUS_MULTIPROC_DIR=$(abspath var/metrics) PATH=$(abspath $(BIN)):$$PATH \
	  $(BIN)/honcho start -f var/Procfile.run -d .

# The Procfile's processes, and the bridges that are configured: the Kafka one with
# KAFKA_BOOTSTRAP_SERVERS, the SNS one with EVENTS_SNS_TOPIC_ARN (and AWS_ENDPOINT_URL for a
# local endpoint such as moto or LocalStack).
BRIDGE_PROCESSES = \
	$(if $(KAFKA_BOOTSTRAP_SERVERS),echo "bridge-kafka: python manage.py bridge kafka";) \
	$(if $(EVENTS_SNS_TOPIC_ARN),echo "bridge-sns: python manage.py bridge sns";)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SECRET_KEY=lint-only-secret-key $(BIN)/python manage.py makemigrations --check --dry-run -v 0

test: install browser lint test-embedded test-services test-redis

# The tests marked `prometheus` (a real Prometheus scraping live processes) run once, in
# the PostgreSQL + RabbitMQ pass: what they check does not depend on the broker. Tests
# marked `bridges` start their own tansu (Kafka) and moto (AWS) processes and do not
# depend on the database and broker setup: they run in the embedded pass only.
# The API contract (tests/contract/test_schemathesis.py, marker `contract`) runs once on the
# embedded default (`make contract`, after the rest of that pass) and once in the PostgreSQL
# pass; the Redis pass changes only the broker, which the contract does not depend on.
test-embedded: install
	@echo "== Test suite on the embedded default (SQLite + filesystem broker)"
	env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND $(BIN)/pytest -m "not prometheus and not contract"
	@$(MAKE) --no-print-directory contract

contract: install
	@echo "== API contract: schemathesis against a live server (embedded default)"
	env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND $(BIN)/pytest -m contract -rA

test-services: install
	@echo "== Test suite on PostgreSQL + RabbitMQ"
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  DJANGO_SECRET_KEY=test-only-secret-key $(BIN)/pytest -m "not bridges"

test-redis: install
	@echo "== Test suite on PostgreSQL + Redis"
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_REDIS_URL) \
	  DJANGO_SECRET_KEY=test-only-secret-key $(BIN)/pytest -m "not prometheus and not bridges and not contract"

test-prometheus: install
	@echo "== Live Prometheus tests on PostgreSQL + RabbitMQ"
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  DJANGO_SECRET_KEY=test-only-secret-key $(BIN)/pytest -m prometheus

test-bridges: install
	@echo "== Bridge tests (tansu, moto) on the embedded default"
	env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND $(BIN)/pytest -m bridges

# Benchmarks on PostgreSQL + RabbitMQ at 127.0.0.1 by default; flags through BENCH_ARGS,
# e.g. make bench BENCH_ARGS="--backend embedded --events 500" (see bench/README.md).
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The Kafka bridge's events/s against raw confluent-kafka produce of the same messages, and
# the lag from commit to Kafka (p50/p99), on a tansu it starts. QUICK=1 is CI's short run.
bench-bridges: install
	env -u DATABASE_URL -u CELERY_BROKER_URL $(BIN)/python bench/bridges.py $(if $(QUICK),--quick)

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var $(VENV) $(TOOLS)
