# The two commands of the README: `make demo` and `make test`.
# Each creates its own virtual environment in .venv from the pinned requirements.lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint clean bench

# pyCANON (k-anonymity in the compliance report) comes in a separate step, without its
# declared dependencies: its metadata pins exact old versions of unrelated packages (typer,
# numpy, pandas, scipy, reportlab, ...) that conflict with requirements.lock, while the part
# used, pycanon.anonymity, imports only numpy and pandas, pinned there. See
# requirements-nodeps.lock.
$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/iubledger demo

# Two runs: everything on SQLite (the concurrency, crash and fault tests on both backends),
# then the tests marked `backends` again on PostgreSQL. The PostgreSQL tests start their own
# throwaway cluster from the installed server binaries; without them they skip and say so.
test: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy --strict src
	$(BIN)/pytest -rs
	$(BIN)/pytest -rs --backend postgresql

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) iubledger-data
