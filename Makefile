# The two commands a fresh machine needs:  make demo  and  make test.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install demo test ui benchmark clean

$(BIN)/passport: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/passport

install: $(BIN)/passport

## Full sync of the bundled demo district on the embedded default (SQLite + local files under ./.passport).
demo: install
	$(BIN)/passport sync demo-unified

## The test suite (PostgreSQL tests use PASSPORT_TEST_POSTGRES_URL, or skip with a reason), one worker per
## core; a test file's tests stay on one worker, in order (they share fixtures and fakes).
test: install
	$(BIN)/pytest -n auto --dist loadfile

## The Dagster UI on http://127.0.0.1:3000 against the same instance the CLI uses (one sync per district;
## the webserver and daemon start under umask 077, so what they write under DAGSTER_HOME is this user's only).
ui: install
	umask 077 && $(BIN)/passport ui

benchmark: install
	$(BIN)/python benchmarks/full_sync.py --students 100000

clean:
	rm -rf .passport
