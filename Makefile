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

# Needs only Python: unless ONCORD_TEST_POSTGRES_URL / ONCORD_TEST_REDIS_URL name servers, each run
# starts its own Redis and (for the PostgreSQL half) its own PostgreSQL, so runs never collide.
test: venv
	$(BIN)/pytest --db sqlite
	$(BIN)/pytest --db postgresql

test-sqlite: venv
	$(BIN)/pytest --db sqlite

test-postgresql: venv
	$(BIN)/pytest --db postgresql

lint: venv
	$(BIN)/ruff check .
