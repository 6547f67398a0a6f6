# Sparkify warehouse. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The DuckDB demo needs no profile of yours: the example is copied here when missing.
export DBT_PROFILES_DIR ?= $(CURDIR)/.dbt
# local (DuckDB) or redshift. dbt reads DBT_TARGET as --target, and a changed --target makes it
# parse the whole project again: so the default (the profile's, local) is passed as no target at
# all, as plain `dbt` passes it, and switching between `make` and `dbt` keeps partial parsing.
TARGET ?= local
ifeq ($(TARGET),local)
  unexport DBT_TARGET
else
  export DBT_TARGET := $(TARGET)
endif
# Where `make load` reads raw JSON: a directory or an s3:// prefix. It reaches the load through
# the environment, never through a shell line, so any path works (quotes and spaces too).
LOCATION ?= data/generated
export SPARKIFY_RAW_LOCATION = $(LOCATION)
# Knobs of `make forget`: the user to erase and why. Like LOCATION, they reach the command
# through the environment, so any text works as the reason.
# Taken from make's command line only: a USER_ID in the shell's environment (a container's
# uid, say) must never name whom to erase.
export SPARKIFY_ERASE_USER_ID = $(if $(filter command line,$(origin USER_ID)),$(USER_ID))
export SPARKIFY_ERASURE_REASON = $(if $(filter command line,$(origin REASON)),$(REASON))
# Rejected lines allowed per source; empty means the project's var max_rejects (0).
MAX_REJECTS ?=
# FULL_REFRESH=1 reloads every file and rebuilds every model; by default (empty or 0) only
# what is new. Anything else is refused: a typo must not cost a full reload.
FULL_REFRESH ?=
ifneq ($(filter-out 0 1,$(FULL_REFRESH)),)
  $(error FULL_REFRESH=$(FULL_REFRESH): say 1 to reload and rebuild everything, or 0 (the default) for only what is new)
endif
FULL_REFRESH_FLAG := $(if $(filter 1,$(FULL_REFRESH)),--full-refresh)
# Knobs of `make upload` (LOCAL to DEST) and `make stage` (SOURCE to DEST). Like LOCATION, they
# reach the command through the environment, so any path or prefix works.
LOCAL ?= data/generated
SOURCE ?= s3://udacity-dend
export LOCAL SOURCE DEST
# Knobs of `make data`.
USERS ?= 100
DAYS ?= 30
SONGS ?= 71
SEED ?= 42
# Knobs of `make metrics` (docs/metrics.md): metrics and group-bys, comma-separated, as mf
# query takes them; ORDER defaults to BY. Or SAVED_QUERY, a saved query's name. Like LOCATION,
# they reach mf through the environment, so a WHERE with quotes needs no escaping. CSV=<file>
# writes the rows there instead of printing the table.
METRICS ?=
BY ?=
# Empty counts as unset: a make that runs this one (make test) exports its own empty ORDER.
ORDER := $(or $(ORDER),$(BY))
WHERE ?=
LIMIT ?=
SAVED_QUERY ?=
CSV ?=
export METRICS BY ORDER WHERE LIMIT SAVED_QUERY CSV
# Data size of `make bench`: sample, 1m or 10m events.
SCALE ?= 1m
# The Redshift target reads its connection from the Terraform outputs (make infra-env).
REDSHIFT_ENV := .env.redshift
ifeq ($(TARGET),redshift)
  ifneq ($(wildcard $(REDSHIFT_ENV)),)
    include $(REDSHIFT_ENV)
    export
  else
    $(warning No $(REDSHIFT_ENV): run `make infra-apply` (or `make infra-env`), or export the SPARKIFY_REDSHIFT_* variables yourself)
  endif
endif

DBT := $(BIN)/dbt
INSTALLED := $(VENV)/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed
# The dashboard draws with Altair in its own venv, which needs neither dbt nor its pins.
DASHBOARD_VENV := .venv-dashboard
DASHBOARD_INSTALLED := $(DASHBOARD_VENV)/.installed
# Airflow and Cosmos have their own venv (no dbt in it: the DAG runs .venv/bin/dbt) and home.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_INSTALLED := $(AIRFLOW_VENV)/.installed
AIRFLOW_PORT ?= 8080
# `make docs-serve`'s port: not Airflow's, so that both can run at once.
DOCS_PORT ?= 8081
# `make airflow`'s settings: .venv-airflow first on PATH (sparkify.local_airflow starts
# Airflow's parts by name, each server on 127.0.0.1, and tunes them for one machine), the
# project's DAG, SQLite metadata in .airflow/, no telemetry, and absolute paths to the
# warehouse and to a dbt target folder of the DAG's own (so that its dbt runs leave the user's
# partial parse alone), since Cosmos runs dbt in a temporary copy of the project. The load task
# runs in the project, so SPARKIFY_RAW_LOCATION (exported above, never written into the shell
# line) may be relative.
AIRFLOW_ENV = PATH=$(abspath $(AIRFLOW_VENV))/bin:$$PATH \
  AIRFLOW_HOME=$(CURDIR)/.airflow \
  AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/orchestration/dags \
  AIRFLOW__CORE__LOAD_EXAMPLES=False \
  AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
  AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
  DBT_TARGET_PATH=$(CURDIR)/target/airflow \
  SPARKIFY_DUCKDB_PATH=$(CURDIR)/data/sparkify.duckdb
# Terraform uses a local provider mirror when this machine has one (offline), else the registry.
TERRAFORM_INIT = plugin_dir=$$(scripts/terraform-plugin-dir); terraform -chdir=terraform init -input=false $${plugin_dir:+-plugin-dir=$$plugin_dir}
PROFILE := $(DBT_PROFILES_DIR)/profiles.yml
DBT_PACKAGES := dbt_packages/dbt_utils/dbt_project.yml

.PHONY: help install lock deps data load forget build freshness pipeline demo compile-redshift docs docs-serve lint test test-fast bench bench-dag clean upload stage metrics \
        dashboard browser airflow airflow-test infra-init infra-plan infra-apply infra-env infra-destroy

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# Each venv installs from its full lock, requirements-<name>.txt, written by `make lock` from
# requirements-<name>.in; the project's .venv from requirements-dev.txt (which holds `-e .`).
# uv installs a lock in seconds where pip takes minutes (two for Airflow's). It compiles the
# bytecode at install time: where PYTHONDONTWRITEBYTECODE is set (as in many containers), Python
# would otherwise compile dbt's 1,400 modules again in every command, about 1.4 s each time.
UV_VERSION := 0.13.8
# The locks need Python 3.11 or later: an older one stops here, in one line, rather than inside uv.
MIN_PYTHON := 3.11
define install_venv
	@$(PYTHON) -c 'import sys; need = tuple(map(int, "$(MIN_PYTHON)".split("."))); found = ".".join(map(str, sys.version_info[:3])); sys.exit(0 if sys.version_info >= need else f"$(PYTHON) is Python {found}; the project needs Python $(MIN_PYTHON) or later (PYTHON=python3.11 make ...)")'
	@echo "Installing $(1) from $(2): about a minute the first time..."
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet uv==$(UV_VERSION)
	$(1)/bin/uv pip install --quiet --compile-bytecode --python $(1)/bin/python -r $(2)
	touch $(1)/.installed
endef

$(INSTALLED): requirements-dev.txt pyproject.toml
	$(call install_venv,$(VENV),requirements-dev.txt)

$(CHECKOV_INSTALLED): requirements-checkov.txt
	$(call install_venv,$(CHECKOV_VENV),requirements-checkov.txt)

$(DASHBOARD_INSTALLED): requirements-dashboard.txt
	$(call install_venv,$(DASHBOARD_VENV),requirements-dashboard.txt)

$(AIRFLOW_INSTALLED): requirements-airflow.txt
	$(call install_venv,$(AIRFLOW_VENV),requirements-airflow.txt)

lock: $(INSTALLED) ## Regenerate every requirements*.txt lock from its requirements*.in (uv; keeps pins the .in allows)
	@for requirements in requirements*.in; do \
	  echo "$$requirements -> $${requirements%.in}.txt"; \
	  $(BIN)/uv pip compile --quiet "$$requirements" -o "$${requirements%.in}.txt" --python-version 3.11 || exit 1; \
	done

$(PROFILE): profiles.example.yml
	mkdir -p $(DBT_PROFILES_DIR)
	cp profiles.example.yml $@

$(DBT_PACKAGES): packages.yml | $(INSTALLED)
	@scripts/dbt-deps

deps: $(INSTALLED) ## Install the dbt packages (dbt_utils): from DBT_PACKAGES_MIRROR or ../shared/dbt-packages, else dbt deps
	@scripts/dbt-deps

install: $(INSTALLED) $(PROFILE) $(DBT_PACKAGES) ## Create .venv with the pinned dependencies, a dbt profile and the dbt packages
	@# The local target keeps its DuckDB file in data/, which DuckDB will not create.
	@mkdir -p data
	@echo "Installed; activate with: source $(BIN)/activate"

data: $(INSTALLED) ## Generate a seeded sample into data/generated (USERS, DAYS, SONGS, SEED)
	$(BIN)/python -m sparkify.generate --out data/generated --users $(USERS) --days $(DAYS) --songs $(SONGS) --seed $(SEED)

load: install ## Load new or changed raw JSON from LOCATION (directory or s3:// prefix) into staging (TARGET, MAX_REJECTS, FULL_REFRESH)
	$(BIN)/python -m sparkify.load $(if $(MAX_REJECTS),--max-rejects $(MAX_REJECTS)) $(FULL_REFRESH_FLAG)

forget: install ## Erase one user from every table, raw to marts, and keep them out of later loads (USER_ID, REASON, TARGET; docs/privacy.md)
	$(BIN)/python -m sparkify.forget

upload: install ## Upload LOCAL (default data/generated) to DEST=s3://bucket/prefix, song files compacted
	$(BIN)/python -m sparkify.aws upload "$$LOCAL" "$$DEST"

stage: install ## Copy the public dataset (SOURCE, default s3://udacity-dend) to DEST=s3://bucket/prefix, songs compacted
	$(BIN)/python -m sparkify.aws stage "$$SOURCE" "$$DEST"

# build and freshness hold the DuckDB warehouse for dbt's whole run (sparkify/warehouse.py): a
# warehouse that another process holds is one line and exit status 2, not dbt's tracebacks.
build: install ## Build and test the star schema, unit tests included (dbt build; FULL_REFRESH=1 rebuilds the incremental models)
	$(BIN)/python -m sparkify.warehouse run -- $(DBT) build $(FULL_REFRESH_FLAG)

freshness: install ## How old the newest loaded event is (dbt source freshness on raw.staging_events; docs/models.md)
	$(BIN)/python -m sparkify.warehouse run -- $(DBT) source freshness

pipeline: install ## Load LOCATION, build, run the data tests and summarise, in one dbt process; unit tests are left to make build and make test (TARGET, MAX_REJECTS, FULL_REFRESH)
	$(BIN)/python -m sparkify.pipeline --location "$$SPARKIFY_RAW_LOCATION" $(if $(MAX_REJECTS),--max-rejects $(MAX_REJECTS)) $(FULL_REFRESH_FLAG)

demo: install data ## The whole pipeline on DuckDB from generated data, with two analyses
	$(BIN)/python -m sparkify.pipeline --location data/generated --show most_played_songs --show busiest_weekday

# Stand-ins for the redshift profile's env_var() calls: compiling opens no connection.
REDSHIFT_PLACEHOLDERS := SPARKIFY_REDSHIFT_CLUSTER_ID=sparkify SPARKIFY_REDSHIFT_HOST=sparkify.example.invalid \
  SPARKIFY_REDSHIFT_DATABASE=sparkify SPARKIFY_REDSHIFT_USER=sparkify_admin SPARKIFY_AWS_REGION=us-west-2

compile-redshift: install ## Render every model (as a full build), test and analysis as Redshift SQL into target/redshift, no cluster needed
	env $(REDSHIFT_PLACEHOLDERS) DBT_TARGET=redshift $(DBT) compile --no-populate-cache --full-refresh --target-path target/redshift

docs: install ## Generate the dbt docs site (target/index.html)
	$(DBT) docs generate

docs-serve: docs ## Serve the dbt docs with the lineage graph on http://localhost:8081 (DOCS_PORT); Ctrl-C stops it
	@$(BIN)/python -m sparkify.serve -- $(DBT) docs serve --port $(DOCS_PORT)

# MetricFlow's mf query, after a dbt parse, in one process (sparkify/metrics.py says why not a
# bare mf). It holds the DuckDB warehouse as dbt build does: dbt-duckdb opens it to write.
metrics: install ## Query the semantic layer with mf query: METRICS=plays,listeners BY=metric_time__week,songplay__level [WHERE=..] [ORDER=..] [LIMIT=n] [CSV=file], or SAVED_QUERY=name (TARGET)
	@if [ -z "$$METRICS$$SAVED_QUERY" ]; then echo "Say which: make metrics METRICS=plays,listeners BY=metric_time__week (docs/metrics.md), or SAVED_QUERY=<name>" >&2; exit 2; fi
	@$(BIN)/python -m sparkify.warehouse run -- $(BIN)/python -m sparkify.metrics mf query \
	  $${SAVED_QUERY:+--saved-query "$$SAVED_QUERY"} $${METRICS:+--metrics "$$METRICS"} \
	  $${BY:+--group-by "$$BY"} $${ORDER:+--order "$$ORDER"} $${WHERE:+--where "$$WHERE"} $${LIMIT:+--limit "$$LIMIT"} \
	  $${CSV:+--csv "$$CSV"}

# The dashboard's figures come from the semantic layer: the project's venv runs its saved
# queries into target/dashboard-metrics.json (sparkify/metrics.py), which the dashboard's own
# venv, with no dbt in it, draws.
dashboard: install $(DASHBOARD_INSTALLED) ## Draw target/dashboard.html from the semantic layer's saved queries on the DuckDB warehouse (SPARKIFY_DUCKDB_PATH), self-contained
	@$(BIN)/python -m sparkify.metrics export --out target/dashboard-metrics.json
	$(DASHBOARD_VENV)/bin/python -m sparkify.dashboard --metrics target/dashboard-metrics.json --out target/dashboard.html

browser: ## Install Debian's chromium (for the dashboard's browser test) when /usr/bin/chromium is missing
	@if [ ! -x /usr/bin/chromium ]; then apt-get update && apt-get install -y chromium; fi

lint: install ## ruff for Python, sqlfluff for the models, analyses and tests, mf validate-configs for the semantic layer, terraform fmt
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# sqlfluff renders each model against the warehouse: an empty one, so that it lints the
	@# full build's SQL even beside a built warehouse (after make demo, say). MetricFlow's
	@# validate-configs checks the semantic layer offline (--skip-dw) against it too, with a
	@# dbt target folder of its own, so that the user's partial parse stays.
	lint_dir=$$(mktemp -d) && export SPARKIFY_DUCKDB_PATH=$$lint_dir/empty.duckdb && \
	  $(BIN)/sqlfluff lint models analyses tests && \
	  DBT_TARGET_PATH=$$lint_dir/target DBT_LOG_PATH=$$lint_dir/logs $(BIN)/python -m sparkify.metrics mf validate-configs --skip-dw; \
	  status=$$?; rm -rf "$$lint_dir"; exit $$status
	terraform fmt -check -recursive terraform

# pytest-xdist workers for make test: each has its own warehouses and dbt target folder, and
# takes whole modules (--dist loadfile), so that a module's fixtures are built once. Not
# loadgroup: with pytest 9, xdist 3.8 spread one xdist_group's tests over both workers. Three
# workers for two cores: the Terraform round trip and the DAG's runs spend much of their time
# waiting, and a third worker fills it (docs/benchmarks.md compares two and three).
TEST_WORKERS ?= 3

test: lint $(CHECKOV_INSTALLED) $(DASHBOARD_INSTALLED) $(AIRFLOW_INSTALLED) browser ## The full test suite on both cores: lint, then every tier of tests/python (docs/testing.md)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: install ## The fast tier while you work: no dbt process; the loader's planning and checks, the generator, the AWS helpers
	$(BIN)/pytest -m fast

airflow-test: install $(AIRFLOW_INSTALLED) ## Install .venv-airflow if missing, then test the daily DAG: its shape, a run on the real sample with a failing test and stale data, the alerts; and make airflow's servers
	$(BIN)/pytest -m airflow

airflow: install $(AIRFLOW_INSTALLED) ## Airflow with the daily DAG on http://localhost:8080, every server on 127.0.0.1 (TARGET, LOCATION, AIRFLOW_PORT)
	@# Cosmos renders the DAG from the manifest that dbt parse writes; with the same settings and
	@# flags as its tasks, they reuse this parse.
	@$(AIRFLOW_ENV) $(DBT) parse --quiet --profile sparkify --target $(TARGET)
	@echo "Airflow UI: http://localhost:$(AIRFLOW_PORT)  (DAG sparkify_daily; target $(TARGET), raw JSON from $$SPARKIFY_RAW_LOCATION)"
	@echo "Log in as admin; the password is in .airflow/simple_auth_manager_passwords.json.generated (written at first start). Ctrl-C stops it."
	@$(AIRFLOW_ENV) $(BIN)/python -m sparkify.local_airflow

bench: install ## Loader and build against the raw-scan floor, side by side (SCALE=sample, 1m or 10m; data generated when missing)
	$(BIN)/python scripts/benchmark.py --scale $(SCALE)

bench-dag: install $(AIRFLOW_INSTALLED) ## The daily DAG's run against make pipeline's, side by side (SCALE=sample: the whole sample; 1m, 10m: a day's append)
	$(BIN)/python scripts/benchmark_dag.py --scale $(SCALE)

infra-init: ## terraform init in terraform/ (with the local provider mirror, when there is one)
	$(TERRAFORM_INIT)

infra-plan: infra-init ## Show what terraform apply would change
	terraform -chdir=terraform plan

infra-apply: infra-init ## Create the Redshift warehouse (cluster or Serverless workgroup), its role and security group (billed!), then write .env.redshift
	terraform -chdir=terraform apply
	$(MAKE) infra-env

infra-env: install ## Write the Terraform outputs to .env.redshift, read by `make load TARGET=redshift` and dbt
	$(BIN)/python -m sparkify.aws env-file --out $(REDSHIFT_ENV)

infra-destroy: infra-init ## Delete everything infra-apply created
	terraform -chdir=terraform destroy

clean: ## Remove generated data, the DuckDB file and dbt artefacts
	rm -rf data target logs
