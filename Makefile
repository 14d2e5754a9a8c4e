# Two commands a newcomer needs: `make run` (demo) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-sqlite test-postgresql venv lint

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

venv: $(BIN)/activate

run: venv
	ONCORD_MODE=demo $(BIN)/flask --app app demo

test: venv
	$(BIN)/pytest --db sqlite
	$(BIN)/pytest --db postgresql

test-sqlite: venv
	$(BIN)/pytest --db sqlite

test-postgresql: venv
	$(BIN)/pytest --db postgresql

lint: venv
	$(BIN)/ruff check .
