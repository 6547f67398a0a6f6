"""The daily Airflow DAG (orchestration/dags/sparkify.py), parsed and run offline.

Airflow and Cosmos live in .venv-airflow (`make airflow-test` installs it); every check runs
Airflow in a subprocess, with an AIRFLOW_HOME of its own on SQLite and a throwaway warehouse.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from support import preloaded
from support.airflow_home import AIRFLOW_BIN, DAGS_FOLDER, airflow_env, require_airflow
from support.expected import REAL_SAMPLE_ROWS
from support.freshness import make_newest_event_this_old
from support.project import PROJECT_DIR, TESTS_DIR
from support.warehouse import Warehouse, make_warehouse
from support.webhook_receiver import webhook_receiver

DAG_ID = "sparkify_daily"
GROUP = "star_schema"
# Cosmos's watcher mode: this task runs the one `dbt build`; every other task of the group follows it.
PRODUCER = f"{GROUP}.dbt_producer_watcher"
PRODUCER_DONE = f"{PRODUCER}_done"
FRESHNESS = "source_freshness"


@pytest.fixture(scope="module")
def airflow_installed() -> None:
    require_airflow()


def parse(project: Path, warehouse: Warehouse) -> dict:
    """`dbt parse` writes manifest.json into the target path (DBT_TARGET_PATH), which the DAG
    renders from (LoadMode.DBT_MANIFEST).

    With the profile and target named as Cosmos names them, its tasks reuse this parse.
    """
    result = preloaded.run(
        ["dbt", "parse", "--quiet", "--profile", "sparkify", "--target", "local"], warehouse.env, project
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((Path(warehouse.env["DBT_TARGET_PATH"]) / "manifest.json").read_text())


@pytest.fixture(scope="module")
def run_warehouse(tmp_path_factory) -> Warehouse:
    return make_warehouse(tmp_path_factory.mktemp("airflow_run"))


# Injected into a linked copy of the project: a test of `sessions` whose every row fails.
BROKEN_MODEL = "model.sparkify.sessions"


def project_with_a_failing_test(tmp_path: Path) -> Path:
    """The project, linked file by file, plus a singular test on sessions that always fails."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    for child in PROJECT_DIR.iterdir():
        if child.name not in ("tests", "target", "logs", ".git"):
            (project / child.name).symlink_to(child)
    for child in (PROJECT_DIR / "tests").glob("*.sql"):
        (project / "tests" / child.name).symlink_to(child)
    (project / "tests/assert_injected_failure.sql").write_text(
        "-- Injected by test_airflow_dag.py: every row is a failure.\nselect session_id from {{ ref('sessions') }}\n"
    )
    return project


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return project_with_a_failing_test(tmp_path_factory.mktemp("airflow_project"))


@pytest.fixture(scope="module")
def manifest(airflow_installed, project, run_warehouse) -> dict:
    """One parse for every test here: the DAG's shape is read from the project's manifest, plus
    the injected test, which the daily run needs (a second parse would cost seconds)."""
    return parse(project, run_warehouse)


def airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # A task that waits for something that never comes fails the test rather than hang the suite.
    return subprocess.run(
        [str(AIRFLOW_BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=300
    )  # fmt: skip


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


def shared_tests(manifest: dict) -> list[dict]:
    """The tests of several models (relationships, reconciliations)."""
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    return [test for test in tests if len(test["depends_on"]["nodes"]) > 1]


def own_tests(node: dict, manifest: dict) -> list[str]:
    """The tests of this model or seed alone."""
    tests = [test for test in manifest["nodes"].values() if test["resource_type"] == "test"]
    return sorted(test["unique_id"] for test in tests if test["depends_on"]["nodes"] == [node["unique_id"]])


def task_of(node: dict, manifest: dict) -> str:
    """The task that reports what the build did to a model or seed (Cosmos groups it with the
    task of its tests, when it has tests of its own)."""
    kind = "seed" if node["resource_type"] == "seed" else "run"
    return f"{GROUP}.{node['name']}{'.' if own_tests(node, manifest) else '_'}{kind}"


def task_of_tests(node: dict) -> str:
    """The task that reports the tests of a model or seed alone."""
    return f"{GROUP}.{node['name']}.test"


def task_of_shared_test(test: dict) -> str:
    return f"{GROUP}.{test['name']}_test"


def last_task_of(node: dict, manifest: dict) -> str:
    return task_of_tests(node) if own_tests(node, manifest) else task_of(node, manifest)


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
        [str(AIRFLOW_BIN / "python"), str(TESTS_DIR / "support/describe_airflow_dag.py"),
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


def test_one_dbt_build_after_the_load_builds_and_tests_everything_as_make_pipeline_does(parsed):
    producer = parsed["local"]["dag"]["tasks"][PRODUCER]
    assert producer["operator"] == "DbtProducerWatcherOperator"
    assert producer["upstream"] == ["load_raw"]
    assert producer["base_cmd"] == ["build"]  # the models, then their data tests
    assert producer["dbt_cmd_flags"] == ["--exclude-resource-type", "unit_test"]  # they test the code, in make test


def test_models_follow_the_dbt_lineage_each_with_a_task_for_its_data_tests(parsed, manifest):
    tasks = parsed["local"]["dag"]["tasks"]
    tests_per_model = tasks[PRODUCER]["tests_per_model"]
    built = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] in ("model", "seed")}
    tested = [node for node in built.values() if own_tests(node, manifest)]
    assert tested, "the project's models have data tests"
    expected = {task_of(node, manifest) for node in built.values()} | {task_of_tests(node) for node in tested}
    expected |= {task_of_shared_test(test) for test in shared_tests(manifest)}
    assert set(tasks) == {"load_raw", FRESHNESS, PRODUCER, PRODUCER_DONE} | expected
    for uid, node in built.items():
        parents = [built[parent] for parent in node["depends_on"].get("nodes", []) if parent in built]
        task = tasks[task_of(node, manifest)]
        assert task["upstream"] == (sorted(last_task_of(parent, manifest) for parent in parents) or ["load_raw"])
        assert task["operator"] == (
            "DbtSeedWatcherOperator" if node["resource_type"] == "seed" else "DbtRunWatcherOperator"
        )
        assert (task["model_unique_id"], task["is_test_sensor"]) == (uid, False), node["name"]
    for node in tested:
        tests = tasks[task_of_tests(node)]
        assert tests["upstream"] == [task_of(node, manifest)]
        assert (tests["model_unique_id"], tests["is_test_sensor"]) == (node["unique_id"], True)
        assert sorted(tests_per_model[node["unique_id"]]) == own_tests(node, manifest), node["name"]


def test_a_test_of_several_models_runs_after_all_of_them_in_a_task_of_its_own(parsed, manifest):
    """Counted in the tests of each of its models, a test that dbt skips because one of them was
    not built would fail the others' tests too, and stop their lineage."""
    tasks = parsed["local"]["dag"]["tasks"]
    tests_per_model = tasks[PRODUCER]["tests_per_model"]
    shared = shared_tests(manifest)
    assert shared, "the project has relationships tests, each over two models"
    for test in shared:
        task = tasks[task_of_shared_test(test)]
        parents = sorted(last_task_of(manifest["nodes"][uid], manifest) for uid in test["depends_on"]["nodes"])
        assert task["upstream"] == parents
        assert (task["model_unique_id"], task["is_test_sensor"]) == (test["unique_id"], True)
        assert tests_per_model[test["unique_id"]] == [test["unique_id"]]


def test_the_tasks_that_follow_the_build_give_their_slot_back_between_checks(parsed):
    """Deferred to a triggerer instead, a task started before the build would wait for it forever
    in `airflow dags test`, which runs triggers inline; waiting in its slot, it would keep the
    build out of DuckDB's only one."""
    followers = [task for task in parsed["local"]["dag"]["tasks"].values() if task["model_unique_id"]]
    assert len(followers) > 1
    assert all(task["reschedule"] and not task["deferrable"] for task in followers)


def test_the_freshness_check_runs_beside_the_build_after_the_load(parsed):
    """So that stale data is told, and the day's build still runs."""
    tasks = parsed["local"]["dag"]["tasks"]
    assert tasks[FRESHNESS]["upstream"] == ["load_raw"]
    assert not any(FRESHNESS in task["upstream"] for task in tasks.values())


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
        # DBT=true: the parse that make airflow runs first, for Airflow, is not this test's.
        ["make", "--no-print-directory", "airflow", f"AIRFLOW_VENV={venv}", f"LOCATION={location}", "DBT=true"],
        cwd=PROJECT_DIR, env=run_warehouse.env, capture_output=True, text=True,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"raw JSON from {location})" in result.stdout
    assert result.stdout.splitlines()[-1] == location


def test_on_redshift_it_reads_the_env_file_and_runs_in_parallel(parsed):
    assert parsed["redshift"]["import_errors"] == {}
    dag = parsed["redshift"]["dag"]
    assert dag["max_active_tasks"] > 1
    for task_id in ("load_raw", PRODUCER):
        env = dag["tasks"][task_id]["env"]
        assert env["DBT_TARGET"] == "redshift"
        assert env["SPARKIFY_REDSHIFT_HOST"] == "example.redshift.amazonaws.com"


def test_on_redshift_a_missing_env_file_says_how_to_write_it(parsed):
    errors = parsed["redshift_without_env_file"]["import_errors"]
    assert len(errors) == 1
    assert "make infra-env" in next(iter(errors.values()))


def test_the_load_task_runs_make_loads_loader_on_both_targets(parsed):
    """The loader hands the COPY only the files new since the ledger (the duckdb and redshift
    tiers test it); a bare `dbt run-operation load_raw` would copy the whole prefix every day."""
    dry_run = subprocess.run(
        ["make", "-n", "--no-print-directory", "load"], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    program, *arguments = shlex.split(dry_run.stdout.splitlines()[-1])
    for target in ("local", "redshift"):
        command = parsed[target]["dag"]["tasks"]["load_raw"]["bash_command"]
        assert shlex.split(command) == [str(PROJECT_DIR / program), *arguments], target


# --- What a run does -----------------------------------------------------------------------


def descendants(uid: str, manifest: dict) -> set[str]:
    """The models and seeds built from this one, directly or not."""
    built = {node_id for node_id, node in manifest["nodes"].items() if node["resource_type"] in ("model", "seed")}
    children = built.intersection(manifest["child_map"][uid])
    return children.union(*(descendants(child, manifest) for child in children))


def stopped_by_the_failure(manifest: dict) -> set[str]:
    """The models below the broken one, and the tests of several models that touch either."""
    downstream = descendants(BROKEN_MODEL, manifest)
    stopped = {BROKEN_MODEL, *downstream}
    touching = {test["unique_id"] for test in shared_tests(manifest) if stopped & set(test["depends_on"]["nodes"])}
    return downstream | touching


@pytest.fixture(scope="module")
def daily_run(project, manifest, metadata_db, run_warehouse, real_sample, tmp_path_factory):
    """One whole `airflow dags test` of a day that goes wrong twice: it loads the real sample,
    builds and tests everything, and a test injected on sessions fails; the sample's newest
    event, from 2018, is past the error age of the freshness check. The alerts go to a webhook
    on 127.0.0.1.

    The sample's path comes from the Airflow Variable (set here through the environment), which
    wins over the environment variable, pointed at nothing. Returns the run, each task's state
    and the messages the webhook received.
    """
    tmp_path = tmp_path_factory.mktemp("airflow_daily")
    with webhook_receiver() as (url, received):
        run, states = run_dag(
            metadata_db, tmp_path, run_warehouse,
            SPARKIFY_PROJECT_DIR=str(project),
            AIRFLOW_CONN_SPARKIFY_ALERTS=json.dumps({"conn_type": "slackwebhook", "password": url}),
            AIRFLOW_VAR_SPARKIFY_RAW_LOCATION=str(real_sample), SPARKIFY_RAW_LOCATION=str(tmp_path / "nothing-here"),
        )  # fmt: skip
    return run, states, [message["text"] for message in received]


def test_a_failed_data_test_fails_its_task_and_stops_what_depends_on_it_and_all_else_runs(daily_run, parsed, manifest):
    run, states, _ = daily_run
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "assert_injected_failure" in output
    broken = manifest["nodes"][BROKEN_MODEL]
    stopped = [manifest["nodes"][uid] for uid in stopped_by_the_failure(manifest)]
    assert {node["name"] for node in stopped if node["resource_type"] == "model"} == {"user_profiles"}
    models = [node for node in stopped if node["resource_type"] != "test"]
    stopped_tasks = [task_of_shared_test(node) for node in stopped if node["resource_type"] == "test"]
    stopped_tasks += [task_of(node, manifest) for node in models]
    stopped_tasks += [task_of_tests(node) for node in models if own_tests(node, manifest)]
    # The broken model was built, its tests failed, and so did the build and the run; what
    # depends on it did not run, and all else succeeded, but for the freshness check.
    expected = dict.fromkeys(parsed["local"]["dag"]["tasks"], "success")
    expected |= {PRODUCER: "failed", PRODUCER_DONE: "upstream_failed", task_of_tests(broken): "failed"}
    expected |= {FRESHNESS: "failed"}
    assert states == expected | dict.fromkeys(stopped_tasks, "upstream_failed"), output[-5000:]
    summary = re.findall(rf"Sparkify task failed: dag={DAG_ID} task=(\S+) run=manual__", output)
    # One line per failed task.
    assert sorted(summary) == sorted([PRODUCER, task_of_tests(broken), FRESHNESS]), output[-5000:]


def test_the_failed_test_and_the_stale_data_send_one_message_each_naming_what_failed(daily_run, run_warehouse):
    run, _, messages = daily_run
    assert len(messages) == 2, run.stdout[-5000:]
    failed, stale = sorted(messages, key=lambda message: f"task={FRESHNESS} " in message)
    where = rf"dag={DAG_ID} task=(\S+) run=manual__\S+ <http://\S+\|log>"
    sessions = run_warehouse.scalar("select count(*) from analytics.sessions")  # the injected test fails on each
    assert re.fullmatch(rf"Sparkify task failed: {where}: dbt test assert_injected_failure: {sessions:,} failing rows",
                        failed).group(1) == PRODUCER, failed  # fmt: skip
    found = re.fullmatch(rf"Sparkify task failed: {where}: source sparkify\.staging_events: newest row "
                         r"2018-11-30T\d\d:\d\d UTC, [\d,]+ hours old \(error after 7 days\)", stale)  # fmt: skip
    assert found and found.group(1) == FRESHNESS, stale


def test_in_a_daily_run_one_dbt_process_builds_and_the_other_tasks_run_no_dbt(daily_run):
    """Besides the load and the freshness check, one dbt process: DuckDB takes one writer, and
    a process per model cost 4 s each."""
    run, _, _ = daily_run
    commands = re.findall(r"Running command: \[PosixPath\('([^']+)'\), '([\w-]+)'", run.stdout)
    # The project's dbt, through the linked copy of the project that the run was given.
    assert [(Path(dbt).resolve(), command) for dbt, command in commands] == [
        ((PROJECT_DIR / ".venv/bin/dbt").resolve(), "build")
    ]


def test_in_a_daily_run_the_build_reuses_the_parse_of_the_load(daily_run):
    """A parse of its own, in Cosmos's temporary copy of the project, would cost seconds, and
    point the next runs at that copy's seed once it is deleted."""
    run, _, _ = daily_run
    assert "Unable to do partial parsing" not in run.stdout


def test_in_a_daily_run_dbt_runs_a_test_of_several_models_after_all_of_them(daily_run, manifest):
    """So it checks today's tables, not the previous contents of some."""
    run, _, _ = daily_run
    lines = run.stdout.splitlines()

    def line_of(pattern: str) -> int:
        """The line of dbt's own output, as the build logs it (a task that follows the build
        may log the same event again, as JSON)."""
        pattern = rf"\d\d:\d\d:\d\d  \d+ of \d+ {pattern}"
        found = [number for number, line in enumerate(lines) if re.search(pattern, line)]
        assert len(found) == 1, pattern
        return found[0]

    stopped = stopped_by_the_failure(manifest)
    ran = [test for test in shared_tests(manifest) if test["unique_id"] not in stopped]
    assert len(ran) > len(shared_tests(manifest)) / 2
    for test in ran:
        passed = line_of(rf"PASS {re.escape(test['name'])} ")
        for parent in test["depends_on"]["nodes"]:
            name = manifest["nodes"][parent]["name"]
            built = line_of(rf"OK (created|loaded) [\w ]+\.{re.escape(name)} ")
            assert built < passed, (test["name"], parent)


@pytest.mark.parametrize(("table", "rows"), REAL_SAMPLE_ROWS.items())
def test_after_a_daily_run_the_warehouse_holds_the_real_sample(daily_run, run_warehouse, table, rows):
    assert run_warehouse.scalar(f"select count(*) from {table}") == rows


# --- The alerts and the freshness check, called as the tasks call them ------------------------


def run_in_airflow_venv(code: str, tmp_path: Path, warehouse: Warehouse, **overrides: str):
    """Python code in .venv-airflow, with the DAGs folder importable (the DAG is `sparkify`)."""
    # Not run in the project, whose own `sparkify` package would shadow the DAG's module.
    env = airflow_env(tmp_path / "airflow", warehouse, PYTHONPATH=str(DAGS_FOLDER), **overrides)
    return subprocess.run(
        [str(AIRFLOW_BIN / "python"), "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )


def test_without_an_alert_connection_alerts_go_to_the_log_which_says_so_once(tmp_path):
    code = "import alerts; alerts.send('first'); alerts.send('second')"
    sent = run_in_airflow_venv(code, tmp_path, make_warehouse(tmp_path))
    output = sent.stdout + sent.stderr
    assert sent.returncode == 0, output
    assert output.count("No Airflow connection 'sparkify_alerts'") == 1
    assert re.findall(r"Sparkify alert: (\w+)", output) == ["first", "second"]


def test_data_that_is_getting_stale_sends_a_message_and_the_check_passes(daily_run, project, run_warehouse, tmp_path):
    """Two days old: past the warning age, not the error age."""
    warehouse = make_warehouse(tmp_path)
    shutil.copy(run_warehouse.path, warehouse.path)
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.execute(make_newest_event_this_old(timedelta(days=2)))
    with webhook_receiver() as (url, received):
        checked = run_in_airflow_venv(
            f"import sparkify; sparkify.dag.get_task({FRESHNESS!r}).python_callable()", tmp_path, warehouse,
            AIRFLOW_CONN_SPARKIFY_ALERTS=json.dumps({"conn_type": "slackwebhook", "password": url}),
            SPARKIFY_PROJECT_DIR=str(project),  # the project parsed last: dbt reuses its parse
        )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert len(received) == 1, checked.stdout + checked.stderr
    assert re.fullmatch(r"Sparkify data is getting stale: source sparkify\.staging_events: newest row \S+ UTC, "
                        r"48 hours old \(warn after 36 hours\)", received[0]["text"]), received  # fmt: skip
