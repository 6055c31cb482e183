# The two commands of the README: `make run` and `make test`. Each does the whole set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export FLASK_APP := kiosk
HOST ?= 127.0.0.1
PORT ?= 5000
export PORT
# Each open WebSocket (board, kiosk, counter, visitor's phone) holds one server thread...
QMS_THREADS ?= 1000
# ... unless QMS_ASYNC_MODE=gevent: gunicorn's gevent worker, a greenlet per connection, up to
# QMS_CONNECTIONS at once (README, "Deployment"). Passed to the server alone (not exported: the
# tests' and the command line's own apps run threads).
QMS_ASYNC_MODE ?= threading
QMS_CONNECTIONS ?= 12000
ifeq ($(QMS_ASYNC_MODE),gevent)
WORKER := --worker-class gevent --worker-connections $(QMS_CONNECTIONS)
else
WORKER := --worker-class gthread --threads $(QMS_THREADS) --worker-connections $$(( $(QMS_THREADS) + 100 ))
endif
# glibc keeps a cache of freed memory per thread, which only that thread can use again: with a
# thousand threads it grows all day (bench/README.md, soak.py). Off for the server; a
# GLIBC_TUNABLES of the environment wins. deploy/run-two.sh and tests/live.py say the same.
SERVER_GLIBC_TUNABLES := glibc.malloc.tcache_count=0
# pytest runs the suite in this many processes (pytest-xdist), a test file to each at a time:
# most of a test's time is spent waiting on a server, a browser or a database, so two processes
# keep both cores busy. PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 2

.PHONY: run test setup assets translations system-deps db lint bench clean

run: setup assets db
	@echo
	@echo "  Kiosk            http://$(HOST):$(PORT)/kiosk"
	@echo "  Display board    http://$(HOST):$(PORT)/display"
	@echo "  Counter          http://$(HOST):$(PORT)/counter"
	@echo "  Supervisor       http://$(HOST):$(PORT)/supervisor"
	@echo "  Admin            http://$(HOST):$(PORT)/admin"
	@echo "  API (OpenAPI)    http://$(HOST):$(PORT)/api/v1/openapi.json"
	@echo "  Staff login      http://$(HOST):$(PORT)/login"
	@echo "  Demo logins (username password):"
	@sed 's/^/    /' instance/demo-logins.txt 2>/dev/null || echo "    (set by QMS_DEMO_PASSWORD or already created; see instance/demo-logins.txt)"
	@echo
	QMS_ASYNC_MODE=$(QMS_ASYNC_MODE) GLIBC_TUNABLES=$${GLIBC_TUNABLES:-$(SERVER_GLIBC_TUNABLES)} \
		$(VENV)/bin/gunicorn $(WORKER) --workers 1 \
		--graceful-timeout 5 --bind $(HOST):$(PORT) kiosk.wsgi:app

test: setup assets system-deps lint
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

setup: $(VENV)/.stamp-installed

$(VENV)/.stamp-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

assets: kiosk/static/vendor/.stamp translations

translations: setup
	$(VENV)/bin/pybabel compile -d kiosk/translations --use-fuzzy -f >/dev/null

kiosk/static/vendor/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p kiosk/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js kiosk/static/vendor/htmx.min.js
	cp node_modules/socket.io-client/dist/socket.io.min.js kiosk/static/vendor/socket.io.min.js
	touch $@

system-deps:
	@bash scripts/system-deps.sh

# Upgrade the database in place (Alembic migrations; its data is kept), then seed the demo hall
# only if the database holds none: seed-demo changes nothing where services, counters or users exist.
db: setup
	$(VENV)/bin/flask init-db
	$(VENV)/bin/flask seed-demo

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: setup
	$(PY) bench/engine_bench.py

clean:
	rm -rf $(VENV) node_modules kiosk/static/vendor .pytest_cache .mypy_cache .ruff_cache
