# hesk2intercom — the two commands of the quick start, and a few more.
#   make demo   full demo migration on this machine's services (sets itself up)
#   make test   the test suite (sets itself up)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint services install bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

services: $(STAMP)
	$(PY) -m core.services

demo: services
	$(VENV)/bin/hesk2intercom demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: services lint
	$(VENV)/bin/pytest -q -p no:cacheprovider --durations=15

bench: services
	$(PY) benchmarks/ledger_append.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
