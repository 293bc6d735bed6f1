# The two commands a new user needs: `make demo` and `make test`. Everything else follows from them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format bench services messages clean

# The plugin's translations, compiled from the catalogues in the repository (Babel, an Oscar
# dependency, compiles them: no system package needed). The wheel ships the compiled files.
CATALOGUES := $(wildcard popup/locale/*/LC_MESSAGES/django.po integrations/*/locale/*/LC_MESSAGES/django.po)
COMPILED := $(CATALOGUES:.po=.mo)

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[sandbox,test]"
	touch $@

## Set up a SQLite store with demo data and run it (store on :8000, social host page on :8001).
demo: $(BIN)/.installed $(COMPILED)
	$(BIN)/python manage.py demo

## Run every test against PostgreSQL and Redis, with the browser tests in Debian's Chromium.
test: $(BIN)/.installed services node_modules/.package-lock.json $(COMPILED)
	$(BIN)/pytest

## What the browser tests inject into pages (axe-core), from the npm registry.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --silent --no-audit --no-fund

## Compile the translation catalogues (after editing a .po file).
messages: $(COMPILED)

%.mo: %.po $(BIN)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@

## Make sure PostgreSQL, Redis, Chromium and the fonts the tests use are there (installs or starts them).
services:
	scripts/test-services

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks (see bench/README.md).
bench: $(BIN)/.installed services
	$(BIN)/python bench/popup_page.py
	$(BIN)/python bench/flash_sale.py
	$(BIN)/python bench/presale_settlement.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/money_faults.py
	$(BIN)/python bench/drop_day.py

clean:
	rm -rf $(VENV) var db.sqlite3
