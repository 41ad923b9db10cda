# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test worker bench clean clean-db postgres-binaries assets node chromium-browser

# The virtualenv is rebuilt whenever the declared dependencies change.
$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP) assets
	$(BIN)/loanflow serve --demo

# The pages' front-end packages (bpmn-js, dmn-js, htmx, chart.js), pinned in web/frontend/package-lock.json
# and copied into web/static/vendor/ (gitignored): the pages load nothing from outside the server.
FRONTEND := web/frontend
VENDOR   := web/static/vendor

node:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing Node.js and npm from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	fi

assets: $(VENDOR)/.stamp

$(VENDOR)/.stamp: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json Makefile
	$(MAKE) node
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bpmn-js
	cp $(FRONTEND)/node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js $(VENDOR)/bpmn-js/
	cp $(FRONTEND)/node_modules/bpmn-js/dist/bpmn-modeler.production.min.js $(VENDOR)/bpmn-js/
	cp -r $(FRONTEND)/node_modules/bpmn-js/dist/assets/. $(VENDOR)/bpmn-js/
	mkdir -p $(VENDOR)/dmn-js
	cp $(FRONTEND)/node_modules/dmn-js/dist/dmn-modeler.production.min.js $(VENDOR)/dmn-js/
	cp -r $(FRONTEND)/node_modules/dmn-js/dist/assets/. $(VENDOR)/dmn-js/
	cp $(FRONTEND)/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp $(FRONTEND)/node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
	touch $@

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`);
# fonts-noto-cjk draws the Chinese interface.
chromium-browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Chromium and CJK fonts from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

worker: $(STAMP)
	$(BIN)/loanflow worker --demo

# PostgreSQL's server binaries are needed for the suite's throwaway server, unless
# LOANFLOW_TEST_POSTGRES_URL points at a running one.
postgres-binaries:
	@if [ -z "$$LOANFLOW_TEST_POSTGRES_URL" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

test: $(STAMP) postgres-binaries assets chromium-browser
	$(BIN)/lint-imports --config setup.cfg
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/origination.py

# Start the demo over: the next `make run` creates the schema and demo data again.
clean-db:
	rm -f var/loanflow.sqlite3 var/loanflow.sqlite3-wal var/loanflow.sqlite3-shm

clean:
	rm -rf $(VENV) var $(VENDOR) $(FRONTEND)/node_modules
