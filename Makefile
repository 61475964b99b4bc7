# rehab-analytics: `make` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
RAW ?= data/raw
PROCESSED ?= data/processed

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets with one line each
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m rehab_analytics.cli install-kernel --quiet
	touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv and install the pinned dependencies and the package

.PHONY: demo
demo: $(STAMP) ## Set up, generate the sample data, clean it and run the report batch
	$(BIN)/rehab-analytics demo --raw $(RAW) --out $(PROCESSED)

.PHONY: test
test: $(STAMP) ## Run the whole test suite (unit, doctests, notebooks, slow tests)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

.PHONY: lint
lint: $(STAMP) ## Check style with ruff
	$(BIN)/ruff check rehab_analytics tests
	$(BIN)/ruff format --check rehab_analytics tests

.PHONY: lab
lab: $(STAMP) ## Open JupyterLab on the notebooks with the project kernel
	$(BIN)/jupyter lab notebooks

.PHONY: gallery
gallery: $(STAMP) ## Draw every chart in both languages into data/processed/gallery
	$(BIN)/rehab-analytics gallery --out $(PROCESSED)/gallery

.PHONY: bench
bench: $(STAMP) ## Benchmark cleaning and the batch (not part of make test)
	$(BIN)/python -m rehab_analytics.bench

.PHONY: clean
clean: ## Remove the virtual environment and caches (data is kept)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
