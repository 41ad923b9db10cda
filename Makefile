# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test worker bench clean clean-db postgres-binaries

# The virtualenv is rebuilt whenever the declared dependencies change.
$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/loanflow serve --demo

worker: $(STAMP)
	$(BIN)/loanflow worker --demo

# PostgreSQL's server binaries are needed for the suite's throwaway server, unless
# LOANFLOW_TEST_POSTGRES_URL points at a running one.
postgres-binaries:
	@if [ -z "$$LOANFLOW_TEST_POSTGRES_URL" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

test: $(STAMP) postgres-binaries
	$(BIN)/lint-imports --config setup.cfg
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/origination.py

# Start the demo over: the next `make run` creates the schema and demo data again.
clean-db:
	rm -f var/loanflow.sqlite3 var/loanflow.sqlite3-wal var/loanflow.sqlite3-shm

clean:
	rm -rf $(VENV) var
