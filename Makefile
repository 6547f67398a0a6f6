# Sparkify warehouse. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The DuckDB demo needs no profile of yours: the example is copied here when missing.
export DBT_PROFILES_DIR ?= $(CURDIR)/.dbt
# local (DuckDB) or redshift.
TARGET ?= local
export DBT_TARGET := $(TARGET)
# Where `make load` reads raw JSON: a directory or an s3:// prefix.
LOCATION ?= data/generated
# Rejected lines allowed per source; empty means the project's var max_rejects (0).
MAX_REJECTS ?=
# Knobs of `make data`.
USERS ?= 100
DAYS ?= 30
SONGS ?= 71
SEED ?= 42
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
# Terraform uses a local provider mirror when this machine has one (offline), else the registry.
TERRAFORM_INIT = plugin_dir=$$(scripts/terraform-plugin-dir); terraform -chdir=terraform init -input=false $${plugin_dir:+-plugin-dir=$$plugin_dir}
PROFILE := $(DBT_PROFILES_DIR)/profiles.yml
DBT_PACKAGES := dbt_packages/dbt_utils/dbt_project.yml
comma := ,

.PHONY: help install deps data load build pipeline demo docs docs-serve lint test bench clean upload stage \
        infra-init infra-plan infra-apply infra-env infra-destroy

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e .
	touch $@

$(CHECKOV_INSTALLED): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

$(PROFILE): profiles.example.yml
	mkdir -p $(DBT_PROFILES_DIR)
	cp profiles.example.yml $@

$(DBT_PACKAGES): packages.yml | $(INSTALLED)
	scripts/dbt-deps

deps: $(INSTALLED) ## Install the dbt packages (dbt_utils): from DBT_PACKAGES_MIRROR or ../shared/dbt-packages, else dbt deps
	scripts/dbt-deps

install: $(INSTALLED) $(PROFILE) $(DBT_PACKAGES) ## Create .venv with the pinned dependencies, a dbt profile and the dbt packages
	@# The local target keeps its DuckDB file in data/, which DuckDB will not create.
	@mkdir -p data
	@echo "Installed; activate with: source $(BIN)/activate"

data: $(INSTALLED) ## Generate a seeded sample into data/generated (USERS, DAYS, SONGS, SEED)
	$(BIN)/python -m sparkify.generate --out data/generated --users $(USERS) --days $(DAYS) --songs $(SONGS) --seed $(SEED)

load: install ## Load raw JSON from LOCATION (directory or s3:// prefix) into staging (TARGET, MAX_REJECTS)
	@if [[ '$(LOCATION)' == s3://* ]]; then $(BIN)/python -m sparkify.aws check '$(LOCATION)'; fi
	@# Redshift's COPY names the bucket's region (AWS requires it), unless SPARKIFY_SOURCE_REGION says.
	$(if $(filter s3://%,$(LOCATION)),SPARKIFY_SOURCE_REGION=$${SPARKIFY_SOURCE_REGION:-$$($(BIN)/python -m sparkify.aws region '$(LOCATION)')}) \
	SPARKIFY_DUCKDB_EXTENSIONS=$$($(BIN)/python -m sparkify.duckdb_extensions) \
	  $(DBT) run-operation load_raw --args "{location: '$(LOCATION)'$(if $(MAX_REJECTS),$(comma) max_rejects: $(MAX_REJECTS))}"

upload: install ## Upload LOCAL (default data/generated) to DEST=s3://bucket/prefix, song files compacted
	$(BIN)/python -m sparkify.aws upload '$(or $(LOCAL),data/generated)' '$(DEST)'

stage: install ## Copy the public dataset (SOURCE, default s3://udacity-dend) to DEST=s3://bucket/prefix, songs compacted
	$(BIN)/python -m sparkify.aws stage '$(or $(SOURCE),s3://udacity-dend)' '$(DEST)'

build: install ## Build and test the star schema (dbt build)
	$(DBT) build

pipeline: install ## Load LOCATION, build, test and summarise, in one dbt process (TARGET, MAX_REJECTS)
	$(BIN)/python -m sparkify.pipeline --location '$(LOCATION)' $(if $(MAX_REJECTS),--max-rejects $(MAX_REJECTS))

demo: install data ## The whole pipeline on DuckDB from generated data, with two analyses
	$(BIN)/python -m sparkify.pipeline --location data/generated --show most_played_songs --show busiest_weekday
	@echo "Browse the lineage and docs with: make docs-serve"

docs: install ## Generate the dbt docs site (target/index.html)
	$(DBT) docs generate

docs-serve: docs ## Serve the dbt docs with the lineage graph on http://localhost:8080
	$(DBT) docs serve --port 8080

lint: install ## ruff for Python, sqlfluff for the models, analyses and tests, terraform fmt
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models analyses tests
	terraform fmt -check -recursive terraform

test: lint $(CHECKOV_INSTALLED) ## The full test suite: lint, then pytest (dbt on the real sample, Terraform, checkov, emulator)
	$(BIN)/pytest

bench: install ## Time load + build + test on the real sample; print wall time and memory
	$(BIN)/python scripts/benchmark.py

infra-init: ## terraform init in terraform/ (with the local provider mirror, when there is one)
	$(TERRAFORM_INIT)

infra-plan: infra-init ## Show what terraform apply would change
	terraform -chdir=terraform plan

infra-apply: infra-init ## Create the Redshift cluster, its role and security group (billed!), then write .env.redshift
	terraform -chdir=terraform apply
	$(MAKE) infra-env

infra-env: install ## Write the Terraform outputs to .env.redshift, read by `make load TARGET=redshift` and dbt
	$(BIN)/python -m sparkify.aws env-file --out $(REDSHIFT_ENV)

infra-destroy: infra-init ## Delete everything infra-apply created
	terraform -chdir=terraform destroy

clean: ## Remove generated data, the DuckDB file and dbt artefacts
	rm -rf data target logs
