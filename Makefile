# The two quick-start commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install bench lint types mutate clean locale runbook-lint runbook screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bfg-tui

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python scripts/static_checks.py
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The loop while developing: every test but those marked slow (`make test` and CI run all).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" --snapshot-warn-unused $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Mutation testing of the core (engine, RBAC, audit chain, canonical JSON): fails when a
# mutant not listed in mutation/equivalent.txt survives. MUTATE_ARGS=--modules engine,rbac
mutate: $(STAMP)
	$(BIN)/python -m mutation.run $(MUTATE_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# docs/screenshot-<screen>.svg: the six screens of a fresh demo, painted by the app itself.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshot.py docs

# mypy (strict) and the import-linter contracts (pyproject.toml), on the package as it installs.
types: $(STAMP)
	$(BIN)/python scripts/static_checks.py

clean:
	rm -rf $(VENV) build *.egg-info

# The message catalogs: compile each bfg_tui/locale/<lang>/LC_MESSAGES/bfg_tui.po to its .mo, and the
# Polish for argparse's own words (argparse.po)
# (the runtime reads the .mo with the stdlib; tests/test_messages.py fails when one is stale).
locale: $(STAMP)
	$(BIN)/pybabel compile --statistics -D bfg_tui -d bfg_tui/locale
	$(BIN)/pybabel compile --statistics -D argparse -d bfg_tui/locale

# The RLS lint's verdict on the shipped runbook, which every status read uses instead of
# linting (tests/unit/test_runbook_lint.py fails when it is stale).
runbook-lint: $(STAMP)
	$(BIN)/python -m bfg_tui.runbook > assets/runbook_lint.json

# The runbook option tenant-logins, generated from the runbook's tenant tables
# (tests/unit/test_runbook_lint.py fails when the shipped file is stale).
runbook: $(STAMP)
	$(BIN)/python -c 'import sys; from bfg_tui.runbook import tenant_logins_sql; sys.stdout.write(tenant_logins_sql())' \
		> assets/runbook_tenant_logins.sql
