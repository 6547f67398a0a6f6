"""Sparkify daily: load the raw JSON, then build and test the star schema, one Airflow task per dbt model.

Cosmos renders the dbt project from its manifest (``dbt parse`` writes target/manifest.json) and
runs the project's own dbt (.venv/bin/dbt) in a subprocess, so Airflow's venv holds no dbt.
Each model's task runs ``dbt build`` on it: the model, then its data tests. A failed test fails
that task, and the tasks downstream of it do not run. The unit tests check the code, not the
day's data: as in ``make pipeline``, the daily run leaves them to ``make test``.

Settings, read from the environment of the Airflow processes:
- DBT_TARGET: ``local`` (DuckDB, the default) or ``redshift``. On Redshift the connection comes
  from the env file that ``make infra-env`` writes (SPARKIFY_REDSHIFT_ENV_FILE, default .env.redshift).
- SPARKIFY_PROJECT_DIR: the dbt project (default: two folders above this file).
- SPARKIFY_DUCKDB_PATH: the DuckDB file (default: data/sparkify.duckdb in the project).
- DBT_PROFILES_DIR: where profiles.yml is (default: .dbt in the project, as ``make`` sets it).
- DBT_TARGET_PATH: dbt's target folder, where ``dbt parse`` wrote the manifest (default: target
  in the project; ``make airflow`` gives the DAG target/airflow, so that the user's own dbt
  commands keep their partial parse).
- SPARKIFY_RAW_LOCATION: where the load reads raw JSON, a directory or an s3:// prefix; an Airflow
  Variable of that name, read at run time, wins over it.
"""

from __future__ import annotations

import logging
import os
import shlex
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

log = logging.getLogger(__name__)

PROJECT_DIR = Path(os.environ.get("SPARKIFY_PROJECT_DIR", Path(__file__).resolve().parents[2]))
DBT = PROJECT_DIR / ".venv/bin/dbt"
TARGET = os.environ.get("DBT_TARGET", "local")
PROFILES_DIR = Path(os.environ.get("DBT_PROFILES_DIR", PROJECT_DIR / ".dbt"))
# dbt's own variable: where `dbt parse` wrote the manifest that the task graph is rendered from.
TARGET_PATH = Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target"))
RAW_LOCATION = os.environ.get("SPARKIFY_RAW_LOCATION", str(PROJECT_DIR / "data/generated"))


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as `make infra-env` writes them; comments and blank lines skipped."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make infra-env` (or set SPARKIFY_REDSHIFT_ENV_FILE)")
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def dbt_env() -> dict[str, str]:
    """What dbt needs on top of the worker's environment, for the chosen target."""
    env = {"DBT_TARGET": TARGET, "DBT_PROFILES_DIR": str(PROFILES_DIR)}
    if TARGET == "redshift":
        env |= read_env_file(Path(os.environ.get("SPARKIFY_REDSHIFT_ENV_FILE", PROJECT_DIR / ".env.redshift")))
    else:
        # Cosmos runs dbt in a temporary copy of the project, so a relative path would point there.
        env["SPARKIFY_DUCKDB_PATH"] = os.environ.get("SPARKIFY_DUCKDB_PATH", str(PROJECT_DIR / "data/sparkify.duckdb"))
    return env


def log_failure(context) -> None:
    """One line per failed task, easy to grep and to forward to Slack or email."""
    lines = str(context.get("exception") or "").strip().splitlines()
    log.error(
        "Sparkify task failed: dag=%s task=%s run=%s: %s",
        context["dag"].dag_id,
        context["task_instance"].task_id,
        context["run_id"],
        lines[0] if lines else "no exception recorded",
    )


DBT_ENV = dbt_env()

# What `make load` runs: it checks the location, lists it, compares it with the ledger and
# hands dbt's load_raw operation the plan (sparkify/load.py); the operation alone cannot load.
LOAD_COMMAND = f"{shlex.quote(str(PROJECT_DIR / '.venv/bin/python'))} -m sparkify.load"

with DAG(
    dag_id="sparkify_daily",
    description="Load the day's raw JSON, then build and test the Sparkify star schema",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # DuckDB takes one writer at a time; Redshift runs independent models side by side.
    max_active_tasks=1 if TARGET == "local" else 4,
    max_active_runs=1,
    default_args={"on_failure_callback": log_failure},
    doc_md=__doc__,
    tags=["sparkify", "dbt", TARGET],
) as dag:
    load_raw = BashOperator(
        task_id="load_raw",
        doc_md="`make load`'s loader from the Variable or env SPARKIFY_RAW_LOCATION into raw.staging_*",
        bash_command=LOAD_COMMAND,
        cwd=str(PROJECT_DIR),
        # The loader reads its location from the environment: no quoting, whatever the path.
        env={**DBT_ENV, "SPARKIFY_RAW_LOCATION": "{{ var.value.get('SPARKIFY_RAW_LOCATION', params.raw_location) }}"},
        append_env=True,
        params={"raw_location": RAW_LOCATION},
        # Transient failures (S3 throttling, a cluster resuming) pass on a later try.
        retries=3,
        retry_delay=timedelta(minutes=1),
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(minutes=15),
    )

    star_schema = DbtTaskGroup(
        group_id="star_schema",
        operator_args={"dbt_cmd_flags": ["--exclude-resource-type", "unit_test"]},
        project_config=ProjectConfig(
            dbt_project_path=PROJECT_DIR,
            manifest_path=TARGET_PATH / "manifest.json",
            # dbt_packages/ comes with the project (make deps) and is linked into Cosmos's copy:
            # workers may be offline.
            install_dbt_deps=False,
            env_vars=DBT_ENV,
        ),
        profile_config=ProfileConfig(
            profile_name="sparkify", target_name=TARGET, profiles_yml_filepath=PROFILES_DIR / "profiles.yml"
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=DBT
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            # A test of several models (relationships, the reconciliation) gets its own task after
            # all of them; inside one model's build it would check the others' previous contents.
            should_detach_multiple_parents_tests=True,
            # Analyses are queries for people to run, not steps of the pipeline.
            exclude=["resource_type:analysis"],
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=DBT,
        ),
    )

    load_raw >> star_schema
