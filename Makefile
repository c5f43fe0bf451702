# The two commands a newcomer needs are `make demo` and `make test`; both need only Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo test lint format install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_automations
	$(BIN)/python manage.py seed_billing
	$(BIN)/python manage.py seed_processes
	@echo
	@echo "  Helpdesk running at http://127.0.0.1:$(PORT)/"
	@echo "  Admin:       http://127.0.0.1:$(PORT)/admin/  (admin / demo)"
	@echo "  Agents:      alice / demo, bob / demo"
	@echo "  Portal user: carol / demo"
	@echo "  Sent mail is written to var/mail/. Stop with Ctrl-C."
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --port $(PORT)

test: install
	$(BIN)/python -m pytest

# The performance issue's figures at BENCH_REQUESTS requests (5 messages each), written to
# docs/performance.md. The database is made, migrated and filled once; later runs reuse it.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk_bench
BENCH_REQUESTS ?= 1000000
# Sessions and the cache on Redis, as in production; empty runs without it.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/8
BENCH_ARGS ?=

bench: install
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] \
		|| apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }
	@command -v wrk >/dev/null \
		|| { echo "make bench needs the load tool wrk: sudo apt-get install wrk" >&2; exit 1; }
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python manage.py bench \
		--requests $(BENCH_REQUESTS) $(BENCH_ARGS) --command-line "$(strip \
		make bench BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REQUESTS=$(BENCH_REQUESTS) $(BENCH_ARGS))"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var staticfiles
