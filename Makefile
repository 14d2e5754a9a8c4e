# Two commands a newcomer needs: `make run` (demo) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-sqlite test-postgresql venv lint typecheck mutation mutation-report

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

# mypy (pinned in pyproject.toml) over oncord/, app.py and worker.py, configured in [tool.mypy].
typecheck: venv
	$(BIN)/mypy

# Mutation testing of the modules that keep the product's promises ([tool.mutmut] in pyproject.toml).
# Not part of CI. One worker: the tests share one Redis db, which each test flushes.
# Narrow a run with MODULE (a dotted module under oncord), e.g. make mutation MODULE=automations.rules,
# or with MUTANTS, e.g. make mutation MUTANTS='oncord.secrets.*'. Either way each mutant runs only
# against the selected tests that execute its function (after one mapping pass over the selection,
# which mutmut keeps in mutants/mutmut-stats.json until the code or tests change).
MUTATION_REDIS_URL ?= redis://127.0.0.1:6379/14
MODULE ?=
MUTANTS ?= $(if $(MODULE),'oncord.$(MODULE).*')
mutation: venv
	ONCORD_TEST_REDIS_URL=$(MUTATION_REDIS_URL) $(BIN)/mutmut run --max-children 1 $(MUTANTS)
	$(BIN)/python tools/mutation_report.py

mutation-report: venv
	$(BIN)/python tools/mutation_report.py
