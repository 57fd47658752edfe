# Portico: `make run` starts everything, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 5000

.PHONY: run test lint format bench faults install clean-instance

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The first install takes a minute or two; say so, and how long it took, so the start time
# printed by `make run` is not mistaken for the whole wait.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@echo "Installing Portico and its dependencies into $(VENV) (a minute or two the first time)…"
	@start=$$(date +%s); \
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel && \
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,dev]" && \
	echo "Installed in $$(( $$(date +%s) - start )) s."
	@touch $@

install: $(STAMP)

## Start Portico: migrate, seed demo data on first run, web server + worker; Ctrl-C stops all.
run: $(STAMP)
	$(BIN)/flask --app wsgi serve --port $(PORT)

## Run the whole suite (browser tests need Chromium; .ci/ensure-chromium installs it).
test: $(STAMP)
	@.ci/ensure-chromium || true
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app/services app/storage jobs admin_views app/cli.py portal

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks drive the pages with wrk when it is installed (a Python client otherwise, which
## takes CPU from the servers): try to install it, never fail for want of it.
bench: $(STAMP)
	@command -v wrk >/dev/null || apt-get install -y wrk >/dev/null 2>&1 || echo \
	  "wrk is not installed (apt-get install wrk): the web benchmarks use their Python client."
	$(BIN)/python -m bench.record_list
	$(BIN)/python -m bench.portal
	$(BIN)/python -m bench.workflows
	$(BIN)/python -m bench.signing
	$(BIN)/python -m bench.certificates
	$(BIN)/python -m bench.journeys

## Fault suite: two real workers, a real SMTP server and a Redis of its own, through Redis,
## worker, SMTP and PostgreSQL faults (needs PostgreSQL: FAULTS_DATABASE_URL). About 5 minutes.
faults: $(STAMP)
	$(BIN)/python -m tests.faults.run

## Forget the local database, embedded Redis data and generated secrets.
clean-instance:
	rm -rf instance
