# The two commands a newcomer needs are `make demo` and `make test`; both need only Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo test lint format install clean

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

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var staticfiles
