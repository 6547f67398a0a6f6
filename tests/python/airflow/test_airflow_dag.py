"""The daily Airflow DAG (orchestration/dags/sparkify.py), parsed and run offline.

Airflow and Cosmos live in .venv-airflow (`make airflow-test` installs it); every check runs
Airflow in a subprocess, with an AIRFLOW_HOME of its own on SQLite and a throwaway warehouse.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from support.expected import REAL_SAMPLE_ROWS
from support.project import PROJECT_DIR
from support.warehouse import Warehouse, make_warehouse

AIRFLOW_BIN = PROJECT_DIR / ".venv-airflow/bin"
DAGS_FOLDER = PROJECT_DIR / "orchestration/dags"
DAG_ID = "sparkify_daily"
GROUP = "star_schema"


@pytest.fixture(scope="module")
def airflow_installed() -> None:
    if not (AIRFLOW_BIN / "airflow").is_file():
        pytest.fail("Airflow is missing: `make airflow-test` installs it into .venv-airflow")


def parse(project: Path, warehouse: Warehouse) -> dict:
    """`dbt parse` writes manifest.json into the target path (DBT_TARGET_PATH), which the DAG
    renders from (LoadMode.DBT_MANIFEST).

    With the profile and target named as Cosmos names them, its tasks reuse this parse.
    """
    result = subprocess.run(
        [str(PROJECT_DIR / ".venv/bin/dbt"), "parse", "--quiet", "--profile", "sparkify", "--target", "local"],
        cwd=project, env=warehouse.env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((Path(warehouse.env["DBT_TARGET_PATH"]) / "manifest.json").read_text())


@pytest.fixture(scope="module")
def run_warehouse(tmp_path_factory) -> Warehouse:
    return make_warehouse(tmp_path_factory.mktemp("airflow_run"))


@pytest.fixture(scope="module")
def manifest(airflow_installed, run_warehouse) -> dict:
    return parse(PROJECT_DIR, run_warehouse)


def airflow_env(home: Path, warehouse: Warehouse, **overrides: str) -> dict[str, str]:
    return {
        **warehouse.env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
        **overrides,
    }


def airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(AIRFLOW_BIN / "airflow"), *args], env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def metadata_db(airflow_installed, tmp_path_factory) -> Path:
    """An empty SQLite metadata database, migrated once and copied for each run."""
    home = tmp_path_factory.mktemp("airflow_home")
    migrated = airflow(airflow_env(home, make_warehouse(home)), "db", "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    return home / "airflow.db"


def run_dag(metadata_db: Path, tmp_path: Path, warehouse: Warehouse, *args: str, **overrides: str):
    """`airflow dags test` in a fresh AIRFLOW_HOME; returns the process and each task's final state."""
    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copy(metadata_db, home / "airflow.db")
    run = airflow(airflow_env(home, warehouse, **overrides), "dags", "test", DAG_ID, *args)
    with sqlite3.connect(home / "airflow.db") as metadata:
        states = dict(metadata.execute("select task_id, state from task_instance where dag_id = ?", (DAG_ID,)))
    return run, states


def task_of(node: dict) -> str:
    kind = "seed" if node["resource_type"] == "seed" else "model"
    return f"{GROUP}.{node['name']}_{kind}_build"


# --- What Airflow parses ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def parsed(manifest, tmp_path_factory) -> dict:
    """The DAG as the scheduler sees it, on DuckDB and on Redshift (with and without the env file)."""
    tmp_path = tmp_path_factory.mktemp("dagbag")
    env_file = tmp_path / ".env.redshift"
    env_file.write_text("# as make infra-env writes it\nSPARKIFY_REDSHIFT_HOST=example.redshift.amazonaws.com\n")
    missing = tmp_path / "missing.env"
    scenarios = {
        "local": {"DBT_TARGET": "local"},
        "redshift": {"DBT_TARGET": "redshift", "SPARKIFY_REDSHIFT_ENV_FILE": str(env_file)},
        "redshift_without_env_file": {"DBT_TARGET": "redshift", "SPARKIFY_REDSHIFT_ENV_FILE": str(missing)},
    }
    out = tmp_path / "dags.json"
    env = airflow_env(tmp_path, make_warehouse(tmp_path))
    result = subprocess.run(
        [str(AIRFLOW_BIN / "python"), str(PROJECT_DIR / "tests/python/support/describe_airflow_dag.py"),
         str(DAGS_FOLDER), json.dumps(scenarios), str(out)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text())


def test_the_dag_imports_without_errors(parsed):
    assert parsed["local"]["import_errors"] == {}
    assert parsed["local"]["dag"] is not None


def test_it_runs_daily_without_catchup_one_task_at_a_time_on_duckdb(parsed):
    dag = parsed["local"]["dag"]
    assert (dag["schedule"], dag["catchup"], dag["max_active_tasks"]) == ("@daily", False, 1)


def test_the_load_comes_first_and_retries_with_backoff(parsed):
    tasks = parsed["local"]["dag"]["tasks"]
    assert tasks["load_raw"]["upstream"] == []
    assert tasks["load_raw"]["retries"] > 0
    assert tasks["load_raw"]["retry_exponential_backoff"]
    roots = [task_id for task_id, task in tasks.items() if task_id != "load_raw" and not task["upstream"]]
    assert roots == []


def test_models_follow_the_dbt_lineage_and_build_with_their_data_tests(parsed, manifest):
    tasks = parsed["local"]["dag"]["tasks"]
    built = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] in ("model", "seed")}
    assert {task_of(node) for node in built.values()} <= set(tasks)
    for node in built.values():
        parents = [built[uid] for uid in node["depends_on"].get("nodes", []) if uid in built]
        expected = sorted(task_of(parent) for parent in parents) or ["load_raw"]
        task = tasks[task_of(node)]
        assert task["upstream"] == expected, node["name"]
        assert task["operator"] == "DbtBuildLocalOperator"  # dbt build: the model, then its tests
        assert task["dbt_cmd_flags"] == ["--exclude-resource-type", "unit_test"]  # they test the code, in make test


def test_a_test_of_several_models_runs_after_all_of_them(parsed, manifest):
    tasks = parsed["local"]["dag"]["tasks"]
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    shared = [test for test in tests if len(test["depends_on"]["nodes"]) > 1]
    assert shared, "the project has relationships tests, each over two models"
    for test in shared:
        parents = sorted(task_of(manifest["nodes"][uid]) for uid in test["depends_on"]["nodes"])
        assert tasks[f"{GROUP}.{test['name']}_test"]["upstream"] == parents


def test_every_task_logs_its_failure(parsed):
    assert all(task["has_failure_callback"] for task in parsed["local"]["dag"]["tasks"].values())


def test_make_airflow_hands_the_dag_any_location_as_given(run_warehouse, tmp_path):
    """make airflow passes LOCATION through the environment; here to a stand-in for Airflow
    (AIRFLOW_VENV names a venv whose airflow prints what the DAG would read)."""
    venv = tmp_path / "airflow-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()
    stand_in = venv / "bin/airflow"
    stand_in.write_text("#!/bin/sh\nprintf '%s\\n' \"$SPARKIFY_RAW_LOCATION\"\n")
    stand_in.chmod(0o755)
    location = str(tmp_path / 'Bob\'s "logs"')

    result = subprocess.run(
        ["make", "--no-print-directory", "airflow", f"AIRFLOW_VENV={venv}", f"LOCATION={location}"],
        cwd=PROJECT_DIR, env=run_warehouse.env, capture_output=True, text=True,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"raw JSON from {location})" in result.stdout
    assert result.stdout.splitlines()[-1] == location


def test_on_redshift_it_reads_the_env_file_and_runs_in_parallel(parsed):
    assert parsed["redshift"]["import_errors"] == {}
    dag = parsed["redshift"]["dag"]
    assert dag["max_active_tasks"] > 1
    for task_id in ("load_raw", f"{GROUP}.songplays_model_build"):
        env = dag["tasks"][task_id]["env"]
        assert env["DBT_TARGET"] == "redshift"
        assert env["SPARKIFY_REDSHIFT_HOST"] == "example.redshift.amazonaws.com"


def test_on_redshift_a_missing_env_file_says_how_to_write_it(parsed):
    errors = parsed["redshift_without_env_file"]["import_errors"]
    assert len(errors) == 1
    assert "make infra-env" in next(iter(errors.values()))


def test_on_redshift_a_daily_load_copies_only_what_is_new(parsed, redshift, small_dataset):  # noqa: F811
    # The load task runs make load's loader, which hands the COPY a manifest of the objects new
    # since the ledger; a bare `dbt run-operation load_raw` would copy the whole prefix daily.
    command = parsed["redshift"]["dag"]["tasks"]["load_raw"]["bash_command"]
    location = redshift.upload(small_dataset, "data")
    env = {**redshift.env, "DBT_TARGET": "redshift", "SPARKIFY_RAW_LOCATION": location}

    def daily_load() -> str:
        result = subprocess.run(["bash", "-c", command], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    first, second = daily_load(), daily_load()

    logs = len(list(small_dataset.glob("log_data/**/*.json")))
    assert f"staging_events from {location}: {logs} new or changed files of {logs}" in first
    assert f"staging_events from {location}: 0 new or changed files of {logs}, 0 rows loaded" in second


# --- What a run does -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def daily_run(manifest, metadata_db, run_warehouse, real_sample, tmp_path_factory):
    """One whole `airflow dags test` of the DAG: load the real sample, build and test everything.

    The sample's path comes from the Airflow Variable (set here through the environment), which
    wins over the environment variable, pointed at nothing.
    """
    tmp_path = tmp_path_factory.mktemp("airflow_daily")
    run, states = run_dag(
        metadata_db, tmp_path, run_warehouse,
        AIRFLOW_VAR_SPARKIFY_RAW_LOCATION=str(real_sample), SPARKIFY_RAW_LOCATION=str(tmp_path / "nothing-here"),
    )  # fmt: skip
    return run_warehouse, run, states


def test_a_daily_run_succeeds_with_every_task(daily_run, parsed):
    _, run, states = daily_run
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    assert states == dict.fromkeys(parsed["local"]["dag"]["tasks"], "success")


@pytest.mark.parametrize(("table", "rows"), REAL_SAMPLE_ROWS.items())
def test_after_a_daily_run_the_warehouse_holds_the_real_sample(daily_run, table, rows):
    warehouse, _, _ = daily_run
    assert warehouse.scalar(f"select count(*) from {table}") == rows


def project_with_a_failing_test(tmp_path: Path) -> Path:
    """The project, linked file by file, plus a singular test on stg_sparkify__songs that always fails."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    for child in PROJECT_DIR.iterdir():
        if child.name not in ("tests", "target", "logs", ".git"):
            (project / child.name).symlink_to(child)
    for child in (PROJECT_DIR / "tests").glob("*.sql"):
        (project / "tests" / child.name).symlink_to(child)
    (project / "tests/assert_injected_failure.sql").write_text(
        "-- Injected by test_airflow_dag.py: every row is a failure.\n"
        "select song_id from {{ ref('stg_sparkify__songs') }}\n"
    )
    return project


def test_a_failed_data_test_fails_its_task_and_stops_what_depends_on_it(daily_run, metadata_db, tmp_path):
    loaded, _, _ = daily_run
    project = project_with_a_failing_test(tmp_path)
    warehouse = make_warehouse(tmp_path)
    shutil.copy(loaded.path, warehouse.path)  # the raw tables are loaded already
    parse(project, warehouse)
    # Run only what the broken model and its descendants need; the rest is marked done.
    run, states = run_dag(
        metadata_db, tmp_path, warehouse,
        "--mark-success-pattern", r"^(load_raw|.*stg_sparkify__events.*|.*weekdays.*|.*users.*)$",
        SPARKIFY_PROJECT_DIR=str(project),
    )  # fmt: skip
    output = run.stdout + run.stderr
    broken = f"{GROUP}.stg_sparkify__songs_model_build"
    assert run.returncode != 0
    assert states[broken] == "failed"
    assert "assert_injected_failure" in output
    downstream = ["songs_model_build", "artists_model_build", "songplays_model_build", "time_model_build"]
    assert {states[f"{GROUP}.{task}"] for task in downstream} == {"upstream_failed"}
    summary = [line for line in output.splitlines() if "Sparkify task failed:" in line]
    assert len(summary) == 1, output[-5000:]
    assert f"dag={DAG_ID} task={broken} run=manual__" in summary[0]
