# hesk2intercom — the two commands of the quick start, and a few more.
#   make demo   full demo migration: this machine's services, else embedded ones (sets itself up)
#   make test   the test suite (sets itself up); fails, never skips, when a service is missing
#   make clean  removes only what these targets built (never demo-output/ or anything else)
# Everything they write lands in git-ignored places: .venv/, hesk2intercom.egg-info/,
# demo-output/, .h2i/, caches. `.ci/run` checks that from a fresh clone.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint services install bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,demo]'
	@touch $(STAMP)

install: $(STAMP)

services: $(STAMP)
	$(PY) -m core.services

# A service that cannot be reached does not stop the demo: it runs an embedded one.
demo: $(STAMP)
	$(PY) -m core.services --demo
	$(VENV)/bin/hesk2intercom demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: services lint
	$(VENV)/bin/pytest -q -p no:cacheprovider --durations=15

bench: services
	$(PY) benchmarks/ledger_append.py

# Fixed names only: a VENV=... given on the command line must never widen what is deleted.
clean:
	rm -rf .venv hesk2intercom.egg-info build .pytest_cache .ruff_cache .mypy_cache .hypothesis
