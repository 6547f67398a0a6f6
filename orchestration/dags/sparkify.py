"""Sparkify daily: load the raw JSON, then build and test the star schema in one dbt process,
followed by an Airflow task per dbt model and per model's tests.

Cosmos renders the dbt project from its manifest (``dbt parse`` writes target/manifest.json) in
its watcher mode. One task, ``dbt_producer_watcher``, runs the project's own dbt (.venv/bin/dbt,
in a subprocess, so Airflow's venv holds no dbt) once: ``dbt build``, as ``make pipeline`` does.
The other tasks follow it in dbt's lineage, reading dbt's events, running no dbt: a model's task
reports what dbt did to the model, the next one its data tests, and a test of several models
has a task of its own. A failed test fails the build, its task and the run, and the tasks
downstream of it do not run. The unit tests check the code, not the day's data: as in
``make pipeline``, the daily run leaves them to ``make test``. Beside the build,
``source_freshness`` runs ``make freshness``'s check: how old the newest event is.

A failure, a load whose retries ran out, and stale data each send one message to a person
(alerts.py: a Slack incoming webhook, through the Airflow connection ``sparkify_alerts``).

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
import subprocess
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import alerts
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowException
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import PRODUCER_WATCHER_TASK_ID, ExecutionMode, InvocationMode, LoadMode, TestBehavior

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
    # The profile named as Cosmos names it (--profile sparkify): the build then reuses the load's
    # parse, made in the project itself, rather than parse it all again in its temporary copy of
    # the project, where later runs would look for the seed once the copy is deleted.
    # The target path given, so that the build's run_results.json is where the alerts read it.
    env = {
        "DBT_PROFILE": "sparkify",
        "DBT_TARGET": TARGET,
        "DBT_PROFILES_DIR": str(PROFILES_DIR),
        "DBT_TARGET_PATH": str(TARGET_PATH),
    }
    if TARGET == "redshift":
        env |= read_env_file(Path(os.environ.get("SPARKIFY_REDSHIFT_ENV_FILE", PROJECT_DIR / ".env.redshift")))
    else:
        # Cosmos runs dbt in a temporary copy of the project, so a relative path would point there.
        env["SPARKIFY_DUCKDB_PATH"] = os.environ.get("SPARKIFY_DUCKDB_PATH", str(PROJECT_DIR / "data/sparkify.duckdb"))
    return env


def on_failure(context) -> None:
    """A line in the log for every failed task, and one message per failure to a person.

    The build's message names each dbt node that failed: a test with its failing rows. The
    tasks that follow the build only mirror what it reported, so they send nothing more.
    """
    task_id = context["task_instance"].task_id
    lines = str(context.get("exception") or "").strip().splitlines()
    reason = lines[0] if lines else "no exception recorded"
    dag_id, run_id = context["dag"].dag_id, context["run_id"]
    log.error("Sparkify task failed: dag=%s task=%s run=%s: %s", dag_id, task_id, run_id, reason)
    if task_id in FOLLOWERS:
        return
    started = context["task_instance"].start_date
    failures = alerts.failed_nodes(TARGET_PATH / "run_results.json", started) if task_id == BUILD else []
    for failure in failures or [reason]:
        alerts.send(f"Sparkify task failed: {alerts.where(context)}: {failure}")


def watch_alone(tests_per_model: dict[str, list[str]]) -> dict[str, list[str]]:
    """Which tests make up each test task's result, each test of several models in a task of its own.

    Cosmos counts a test of several models (relationships, a reconciliation) in the test task of
    each of them: one that dbt skips, because one of its models was not built, would fail the
    test tasks of the others, and stop their lineage, which dbt did build. Detached
    (should_detach_multiple_parents_tests), it has a task of its own, which watches the result
    filed under the test's own id.
    """
    models_per_test = Counter(test for tests in tests_per_model.values() for test in tests)
    shared = {test for test, models in models_per_test.items() if models > 1}
    own = {model: [test for test in tests if test not in shared] for model, tests in tests_per_model.items()}
    return own | {test: [test] for test in shared}


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
    # DuckDB takes one writer at a time: on it the build runs alone, and so does a model's task
    # cleared by hand, which runs dbt for its model. On Redshift the tasks follow the build.
    max_active_tasks=1 if TARGET == "local" else 4,
    max_active_runs=1,
    default_args={"on_failure_callback": on_failure},
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

    @task
    def source_freshness() -> None:
        """`make freshness`: how old the newest event is. Past the warning age, a message; past
        the error age, the task fails, and its failure sends the message."""
        # A target folder of its own, as on Redshift the build may run at the same time: the
        # sources.json read below is this check's, not an earlier day's. It starts from the
        # load's parse (dbt's partial parse file, which dbt only reads from there).
        target_path = TARGET_PATH / "freshness"
        sources = target_path / "sources.json"
        sources.unlink(missing_ok=True)
        own_target = {
            "DBT_TARGET_PATH": str(target_path),
            "DBT_PARTIAL_PARSE_FILE_PATH": str(TARGET_PATH / "partial_parse.msgpack"),
        }
        checked = subprocess.run(
            [str(DBT), "source", "freshness"],
            cwd=PROJECT_DIR,
            env=os.environ | DBT_ENV | own_target,
            capture_output=True,
            text=True,
        )
        log.info("%s", checked.stdout + checked.stderr)
        for warning in alerts.stale_sources(sources, "warn"):
            alerts.send(f"Sparkify data is getting stale: {warning}")
        if checked.returncode != 0:
            raise AirflowException("; ".join(alerts.stale_sources(sources, "error")) or "dbt source freshness failed")

    star_schema = DbtTaskGroup(
        group_id="star_schema",
        operator_args={
            "dbt_cmd_flags": ["--exclude-resource-type", "unit_test"],
            # A model's task checks the build's events every 5 s and gives its slot back between
            # checks. Deferred instead, it would wait in a triggerer, which `airflow dags test`
            # runs inline: started before the build, it would wait for it forever.
            "deferrable": False,
            "mode": "reschedule",
            "poke_interval": 5,
        },
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
        # One dbt process builds everything: a dbt process per model cost ~4 s each, 2 min a day.
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER, invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=DBT
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # No DAG is scheduled on these tables: an asset event per model would cost each run
            # about a second, and each model's log a warning.
            emit_datasets=False,
            test_behavior=TestBehavior.AFTER_EACH,
            # A test of several models gets a task of its own, after all of them (see watch_alone).
            should_detach_multiple_parents_tests=True,
            # Analyses are queries for people to run, not steps of the pipeline.
            exclude=["resource_type:analysis"],
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=DBT,
        ),
    )

    build = dag.get_task(f"{star_schema.group_id}.{PRODUCER_WATCHER_TASK_ID}")
    build.tests_per_model = watch_alone(build.tests_per_model)

    load_raw >> [source_freshness(), star_schema]

BUILD = build.task_id
FOLLOWERS = {task_id for task_id in dag.task_ids if task_id.startswith(f"{star_schema.group_id}.")} - {BUILD}
