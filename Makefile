# The two commands of the README: `make demo` (the ledger with demo data) and `make test`.
# Both install what they need into .venv (pinned Python packages) and node_modules (npm ci from the
# committed package-lock.json); nothing has to be installed by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json
DATA_DIR ?= ledger-data
# Parallel test workers (pytest-xdist); CI machines have 2 cores.
WORKERS ?= 2

# Where `make demo` serves the API and the pages.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install browser demo seed serve test nightly lint typecheck unit compile check-artifacts clean

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Chromium and CJK fonts from Debian's packages, for the browser tests.
browser:
	tools/install-browser

# The main job: the embedded chain with demo data, served with the web pages at
# http://$(HOST):$(PORT)/ (API under /v1, OpenAPI at /docs). The demo turns on the development
# identity provider so demo citizens can log in; the tokens are in
# $(DATA_DIR)/demo-credentials.json.
demo: seed
	LEDGER_DEV_ISSUER=true $(BIN)/ledger --data-dir $(DATA_DIR) serve --host $(HOST) --port $(PORT)

seed: install
	$(BIN)/ledger --data-dir $(DATA_DIR) init
	$(BIN)/python scripts/seed_demo.py --data-dir $(DATA_DIR)

serve: install
	LEDGER_DEV_ISSUER=true $(BIN)/ledger --data-dir $(DATA_DIR) serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

compile: install
	$(BIN)/python -m ledger.compile

check-artifacts: install
	$(BIN)/python -m ledger.compile --check

# Static analysis of the contracts (issue #7, docs/adr/0013): slither from its own virtual
# environment (.venv-slither, exact pins in tools/slither-requirements.txt, installed by the script)
# through the repository's solc wrapper. Fails on any high or medium finding.
.PHONY: slither
slither: install
	$(PYTHON) tools/slither

test: lint typecheck browser slither
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup

# The contract invariants at length (at least 10,000 Hypothesis steps; `make test` runs the
# `ci` profile's 200 or more). See docs/testing-invariants.md.
nightly: install
	HYPOTHESIS_PROFILE=nightly $(BIN)/pytest -p no:cacheprovider tests/contracts/test_invariants.py

clean:
	rm -rf $(VENV) .venv-slither node_modules .pytest_cache .mypy_cache .ruff_cache
