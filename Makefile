# rehab-analytics: `make` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RAW ?= data/raw
PROCESSED ?= data/processed

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets with one line each
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

# The locks: every package with its exact version and hashes, for CPython 3.11 on
# Linux x86-64. runtime.lock is what the package needs (make install, demo);
# dev.lock is runtime.lock plus the extras lab, bench and dev (make test, lint).
RUNTIME_LOCK := requirements/runtime.lock
DEV_LOCK := requirements/dev.lock
LOCK_FLAGS := --python-version 3.11.7 --python-platform linux --generate-hashes
# The venv holds exactly one lock (requirements/sync.py installs it and removes the
# rest). The dev lock holds the runtime one, so a dev venv serves both stamps.
RUNTIME_STAMP := $(VENV)/.runtime-stamp
DEV_STAMP := $(VENV)/.dev-stamp
SYNC_DEPS := pyproject.toml requirements/sync.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

define sync
	$(BIN)/python requirements/sync.py $(1)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m rehab_analytics.cli install-kernel --quiet
endef

$(RUNTIME_STAMP): $(RUNTIME_LOCK) $(SYNC_DEPS) | $(BIN)/python
	rm -f $(DEV_STAMP)
	$(call sync,$(RUNTIME_LOCK))
	touch $@

$(DEV_STAMP): $(DEV_LOCK) $(RUNTIME_LOCK) $(SYNC_DEPS) | $(BIN)/python
	$(call sync,$(DEV_LOCK))
	touch $(RUNTIME_STAMP) $@

.PHONY: install
install: $(RUNTIME_STAMP) ## Create .venv with exactly the runtime lock, and the package

.PHONY: dev
dev: $(DEV_STAMP) ## Create .venv with exactly the dev lock (runtime + lab, bench, dev)

# Run from the folder holding pyproject.toml and requirements/ (the header of each
# lock repeats its command). UPGRADE="--upgrade-package NAME" (or --upgrade) moves pins.
COMPILE_RUNTIME = uv pip compile --quiet pyproject.toml requirements/build.in $(LOCK_FLAGS) $(UPGRADE) -o $(RUNTIME_LOCK)
COMPILE_DEV = uv pip compile --quiet pyproject.toml requirements/build.in --extra lab --extra bench --extra dev -c $(RUNTIME_LOCK) $(LOCK_FLAGS) $(UPGRADE) -o $(DEV_LOCK)

.PHONY: lock
lock: $(DEV_STAMP) ## Regenerate the locks from pyproject.toml, keeping every pin it can
	$(BIN)/$(COMPILE_RUNTIME)
	$(BIN)/$(COMPILE_DEV)

.PHONY: lock-check
lock-check: $(DEV_STAMP) ## Fail if the locks differ from what `make lock` would write
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cp -r pyproject.toml requirements "$$tmp"/ && cd "$$tmp" && \
	$(CURDIR)/$(BIN)/$(COMPILE_RUNTIME) && $(CURDIR)/$(BIN)/$(COMPILE_DEV) && \
	diff -r -q "$(CURDIR)/requirements" requirements && \
	echo "locks match pyproject.toml"

.PHONY: demo
demo: $(RUNTIME_STAMP) ## Set up, generate the sample data, clean it and run the report batch
	$(BIN)/rehab-analytics demo --raw $(RAW) --out $(PROCESSED)

.PHONY: test
test: lint ## Lint, then run the whole test suite (unit, doctests, notebooks, slow tests)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

.PHONY: test-fast
test-fast: $(DEV_STAMP) ## Run the tests not marked slow (no notebook runs): for the edit-test loop
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow"

.PHONY: check
check: $(DEV_STAMP) ## Check that the installed packages agree with each other (pip check)
	$(BIN)/python -m pip check

.PHONY: lint
lint: $(DEV_STAMP) ## Check style with ruff
	$(BIN)/ruff check rehab_analytics tests requirements
	$(BIN)/ruff format --check rehab_analytics tests requirements

.PHONY: lab
lab: $(DEV_STAMP) ## Open JupyterLab on the notebooks with the project kernel
	$(BIN)/jupyter lab notebooks

.PHONY: gallery
gallery: $(RUNTIME_STAMP) ## Draw every chart in both languages into data/processed/gallery
	$(BIN)/rehab-analytics gallery --out $(PROCESSED)/gallery

.PHONY: bench
bench: $(DEV_STAMP) ## Benchmark cleaning and the batch (not part of make test)
	$(BIN)/python -m rehab_analytics.bench

.PHONY: clean
clean: ## Remove the virtual environment and caches (data is kept)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
