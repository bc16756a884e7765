# The two commands: `make run` (the product, with demo data) and `make test` (everything CI runs).
# Without DATABASE_URL both use an embedded PostgreSQL server (data in .run/postgres), started by
# the first process that needs it and left running: `make stop` stops it, `make clean` removes it.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3.13 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test install lint typecheck format migrate demo stop clean doors browser-tools alerts drills \
	bench-catalog bench-fulfillment bench-ordering bench-delivery bench-dispatch bench-storefront \
	bench-promise gameday bench-observability

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	$(PY) manage.py collectstatic --noinput -v0
	@echo ""
	@echo "  Prime Now is starting (web, worker, beat):"
	@echo "    storefront  http://127.0.0.1:$(PORT)/"
	@echo "    admin       http://127.0.0.1:$(PORT)/admin/   (demo operator: operator / prime-now-demo)"
	@echo "    API docs    http://127.0.0.1:$(PORT)/api/docs/"
	@echo "    metrics     http://127.0.0.1:$(PORT)/metrics"
	@echo "  Stop with Ctrl-C."
	@echo ""
	rm -rf .run/metrics && mkdir -p .run/metrics
	PORT=$(PORT) LOG_FORMAT=console PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.run/metrics $(BIN)/honcho start

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --config importlinter.ini

typecheck: install
	$(BIN)/mypy

# docs/doors.md, generated from each door's __all__ and docstrings (a test fails when stale).
doors: install
	$(PY) manage.py doors_doc

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# axe-core for the storefront's accessibility check (tests/browser), from the npm registry.
AXE_STAMP := tests/browser/node_modules/.installed
# Without npm the step is skipped: the browser tests then skip too (unless REQUIRE_BROWSER=1).
$(AXE_STAMP): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
	  echo "npm not found: skipping axe-core (browser tests will skip; install Node.js, which ships npm)"; \
	fi

browser-tools: $(AXE_STAMP)

# The Prometheus alert rules (ops/prometheus/): promtool checks them and runs their unit tests.
# Without promtool the step is skipped (unless REQUIRE_PROMTOOL=1, which CI sets).
alerts:
	@if command -v promtool >/dev/null 2>&1; then \
	  promtool check rules ops/prometheus/alerts.yml && \
	  promtool test rules ops/prometheus/alerts.test.yml; \
	elif [ -n "$${REQUIRE_PROMTOOL:-}" ]; then \
	  echo "REQUIRE_PROMTOOL is set but promtool is missing (apt-get install prometheus)"; exit 1; \
	else \
	  echo "promtool not found: skipping the alert rules check (apt-get install prometheus)"; \
	fi

test: lint typecheck browser-tools alerts
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=prime_now.settings.production \
	  DATABASE_URL=$${DATABASE_URL:-$$($(PY) -m prime_now.embedded_db url)} \
	  SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	  ALLOWED_HOSTS=primenow.example \
	  $(PY) manage.py check --deploy --fail-level WARNING
	$(BIN)/pytest -n auto

# The fault drills (tests/drills): real gunicorn, Celery workers and beat, a Redis server of their
# own (redis-server on a spare port) and PostgreSQL; each prints its figure. A few minutes.
drills: install
	DATABASE_URL=$${DATABASE_URL:-$$($(PY) -m prime_now.embedded_db url)} RUN_DRILLS=1 \
	  $(BIN)/pytest tests/drills -p no:randomly -p no:xdist -s -q

bench-storefront: install
	$(PY) benchmarks/storefront_pages.py

# Stops the embedded PostgreSQL server (nothing to do when DATABASE_URL points elsewhere).
stop:
	@if [ -x $(PY) ]; then $(PY) -m prime_now.embedded_db stop; fi

clean: stop
	rm -rf .run staticfiles

# Stock reservations/s on PostgreSQL (16 clients, 8-line baskets, 25,000 SKUs). Needs DATABASE_URL.
bench-fulfillment: install
	$(PY) benchmarks/fulfillment_reservations.py --clients 16 --seconds 20

bench-ordering: install
	$(PY) benchmarks/ordering_place.py --orders 300 --lines 5

# Checkouts/s through HTTP (gunicorn, 16 clients, 8-line baskets) with p50/p99, promise p99 with a
# warm cache, and beside them the minimal order transaction through a bare DRF view (and the
# checkout's share of its rate) and through pgbench. Needs DATABASE_URL (a scratch
# PostgreSQL database) and REDIS_URL.
bench-delivery: install
	$(PY) benchmarks/delivery_checkout.py --clients 16 --seconds 10 --rounds 3

# Catalog import of 25,000 products (cold, then unchanged) and API listing/search req/s with p99
# under gunicorn and 16 clients (wrk if installed). Needs DATABASE_URL (PostgreSQL); works in
# <that database>_bench, never in yours.
bench-catalog: install
	$(PY) benchmarks/catalog_import.py --runs 3
	$(PY) benchmarks/catalog_api.py --seconds 20

# Packed → courier accepted latency (p50/p99) at 1 and 20 orders/s, a real worker, couriers
# answering at once. Needs DATABASE_URL (PostgreSQL) and REDIS_URL.
bench-dispatch: install
	$(PY) benchmarks/dispatch_latency.py --rates 1,20 --seconds 10

# The promise API with fulfillment's door slowed to 2 s a call (an injected fault): p50/p99
# before and during, answered by the stand-in once the breaker opens. Needs DATABASE_URL (a
# scratch database) and REDIS_URL.
bench-promise: install
	$(PY) benchmarks/promise_standin.py --clients 8 --seconds 30

# A game day against the running stack (`make run` in another terminal):
# make gameday SCENARIO=slow-fulfillment (scenarios in gamedays/, report in gamedays/reports/).
SCENARIO ?= slow-fulfillment
gameday: install
	$(PY) manage.py gameday $(SCENARIO) --base-url http://127.0.0.1:$(PORT)

# CPU per checkout through the whole middleware stack, JSON logs and metrics included (run it
# in two trees to compare). Needs DATABASE_URL (a scratch PostgreSQL database) and REDIS_URL.
bench-observability: install
	$(PY) benchmarks/checkout_observability.py --checkouts 100 --rounds 3
