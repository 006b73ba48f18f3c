# The two commands of the README: `make demo` and `make test`. Both set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTIONS := build/collections
LINK := $(COLLECTIONS)/ansible_collections/hippolyte/dynamodb

.PHONY: setup demo test lint bench bench-plan bench-fleet bench-faults clean

setup: $(VENV)/.installed node_modules/.installed $(LINK)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(wildcard tools/patches/*.patch)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# A live development install: the working tree seen as ansible_collections/hippolyte/dynamodb.
$(LINK):
	mkdir -p $(dir $(LINK))
	ln -sfn ../../../.. $(LINK)

demo: setup
	$(BIN)/python tools/demo.py

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

lint: setup
	$(BIN)/python -m pytest tests/test_lint.py

bench-plan: setup
	$(BIN)/python tools/bench_plan.py

bench: setup
	$(BIN)/python tools/bench_backup_restore.py

bench-fleet: setup
	$(BIN)/python tools/bench_fleet.py

bench-faults: setup
	$(BIN)/python tools/bench_faults.py

clean:
	rm -rf build demo-output
