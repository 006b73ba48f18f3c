# The two commands of the README: `make demo` and `make test`. Both set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTIONS := build/collections
LINK := $(COLLECTIONS)/ansible_collections/hippolyte/dynamodb
# ansible-test needs a real (not symlinked) ansible_collections/<namespace>/<name> tree: a copy, made by
# tools/ansible_test_tree.py with amazon.aws beside it and the offline pip bootstrap ansible-test expects.
ANSIBLE_TEST_ROOT := build/ansible-test/ansible_collections/hippolyte/dynamodb
ANSIBLE_TEST := cd $(ANSIBLE_TEST_ROOT) && PATH="$(CURDIR)/$(BIN):$$PATH" ansible-test

.PHONY: setup chromium demo test sanity units ansible-test-tree lint bench bench-plan bench-fleet bench-faults clean

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

test: setup chromium sanity units
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

# tests/integration/test_report_in_browser.py renders the night's report in Debian's chromium. CI runs as root
# on a fresh Debian machine, so it is installed here when missing; without root (or apt-get) that test is
# skipped, saying why.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium not installed (needs root and apt-get): the report's browser test will be skipped"

# What Galaxy and Automation Hub run on a collection, offline (the Python 3.11 of .venv, no containers). Every
# sanity test runs; the only ignores are in tests/sanity/ignore-2.19.txt, each with its reason.
sanity: ansible-test-tree
	$(ANSIBLE_TEST) sanity --local --python 3.11

# tests/unit through ansible-test's own pytest set-up (collection loader, its pytest.ini); `make test` also
# runs them with the rest of tests/.
units: ansible-test-tree
	$(ANSIBLE_TEST) units --local --python 3.11

ansible-test-tree: setup
	$(BIN)/python tools/ansible_test_tree.py

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
