#!/usr/bin/env python3
"""Measure a daily run of the Airflow DAG against `make pipeline`, side by side; print the figures.

    .venv/bin/python scripts/benchmark_dag.py --scale sample   # make bench-dag SCALE=sample
    .venv/bin/python scripts/benchmark_dag.py --scale 1m       # make bench-dag (the default)

Both sides start from the same warehouse: empty for the real sample; at 1m or 10m, built
without the last day, which the run then appends. Each side has its own dbt target folder,
parsed before it is timed, as `make airflow` parses before Airflow starts. The DAG runs twice
over:

* as its tests run it, `airflow dags test sparkify_daily`, in a throwaway AIRFLOW_HOME on a
  SQLite database migrated beforehand: the command's wall time, and the run's own duration
  in Airflow (which includes the start of the execution API that the command runs in-process);
* as a person runs it: under Airflow's scheduler, started as `make airflow` starts it
  (sparkify.local_airflow, in a throwaway home, on a free port), one triggered run at a time:
  the run's duration as the UI shows it.

`make pipeline` does not check the data's freshness, which the sample's and the generator's
data fail: `airflow dags test` marks that task done, and under the scheduler the run's time
is also given up to the end of its last other task (on DuckDB the check runs after them).
`make pipeline` is timed while Airflow is stopped. It prints every run, then the medians and
the ratios DAG / pipeline (target <= 2), and asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
from benchmark import (
    BIN,
    PROJECT_DIR,
    SAMPLE,
    SCALES,
    build_without_last_day,
    dataset,
    measure,
    measure_with_output,
    pipeline_command,
    warehouse_env,
)

from sparkify.local_airflow import components_healthy
from sparkify.serve import free_port

AIRFLOW = PROJECT_DIR / ".venv-airflow/bin/airflow"
DAG_ID = "sparkify_daily"
FRESHNESS = "source_freshness"


def row_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        return {table: connection.execute(f"select count(*) from {table}").fetchone()[0] for (table,) in tables}


@contextlib.contextmanager
def scheduler(env: dict[str, str], home: Path) -> Iterator[dict[str, str]]:
    """`make airflow`'s Airflow in a throwaway home, the DAG unpaused and no run scheduled: each
    run is triggered. Yields the environment of Airflow's commands."""
    port = free_port()
    env = env | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
        "PATH": f"{AIRFLOW.parent}{os.pathsep}{env['PATH']}",
        # Only the runs triggered here, not the one for the day the DAG is unpaused on.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }
    home.mkdir()
    with (home / "components.log").open("w") as log:
        airflow = subprocess.Popen([str(BIN / "python"), "-m", "sparkify.local_airflow"], cwd=PROJECT_DIR, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        print("  starting Airflow's scheduler (not timed)...", flush=True)
        deadline = time.monotonic() + 300
        # Unpausing fails until the DAG processor has written the DAG to the database.
        while not components_healthy(port) or subprocess.run([str(AIRFLOW), "dags", "unpause", DAG_ID], env=env,
                                                  capture_output=True).returncode != 0:  # fmt: skip
            if airflow.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"Airflow did not start; see {home / 'components.log'}")
            time.sleep(2)
        yield env
    finally:
        os.killpg(airflow.pid, signal.SIGINT)  # as Ctrl-C stops make airflow
        airflow.wait(timeout=120)


def scheduled_run(env: dict[str, str], run_id: str) -> tuple[float, float]:
    """Trigger one run and wait for its end: its duration, and its duration up to the end of
    its last task other than the freshness check."""
    subprocess.run(
        [str(AIRFLOW), "dags", "trigger", DAG_ID, "--run-id", run_id], env=env, capture_output=True, check=True
    )
    database = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    seconds = "(julianday({end}) - julianday(dag_run.start_date)) * 86400"
    query = f"""
        select dag_run.state, {seconds.format(end="dag_run.end_date")},
               (select {seconds.format(end="max(task_instance.end_date)")} from task_instance
                 where task_instance.run_id = dag_run.run_id and task_instance.task_id <> '{FRESHNESS}')
        from dag_run where dag_run.dag_id = ? and dag_run.run_id = ?"""
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as metadata:
            state, duration, without_freshness = metadata.execute(query, (DAG_ID, run_id)).fetchone()
        if state in ("success", "failed"):
            return duration, without_freshness
        time.sleep(1)
    sys.exit(f"the run {run_id} did not end within 15 minutes")


def bench_dag(scale: str, runs: int) -> None:
    """The daily DAG against `make pipeline`, side by side, from the same warehouse."""
    if not AIRFLOW.is_file():
        sys.exit(f"{AIRFLOW} is missing: `make bench-dag` installs it")
    root = dataset(scale)
    work = "the whole sample on an empty warehouse" if scale == "sample" else "the last day's append"
    print(f"The daily DAG against make pipeline at {scale}: {work}, {root} ({runs} run{'s' * (runs > 1)})")
    with tempfile.TemporaryDirectory(dir=PROJECT_DIR / "data") as tmp:
        workdir = Path(tmp)
        start = workdir / "start.duckdb"
        pipeline_env = warehouse_env(workdir, "pipeline.duckdb") | {"DBT_TARGET_PATH": str(workdir / "pipeline-target")}
        dag_env = warehouse_env(workdir, "dag.duckdb") | {
            "DBT_TARGET_PATH": str(workdir / "dag-target"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "orchestration/dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            # As the DAG's tests and `make airflow` set it: the Variable wins over the environment.
            "AIRFLOW_VAR_SPARKIFY_RAW_LOCATION": str(root),
        }
        if scale != "sample":
            build_without_last_day(root, pipeline_env, start)
        # Not timed: each side's parse (with the flags Cosmos passes, which both reuse), and the
        # migration of Airflow's metadata database, copied into each run's throwaway home.
        for env in (pipeline_env, dag_env):
            parse = [str(BIN / "dbt"), "parse", "--quiet", "--profile", "sparkify", "--target", "local"]
            subprocess.run(parse, cwd=PROJECT_DIR, env=env, capture_output=True, check=True)
        migrated = workdir / "migrated"
        subprocess.run([str(AIRFLOW), "db", "migrate"], env=dag_env | {"AIRFLOW_HOME": str(migrated)},
                       capture_output=True, check=True)  # fmt: skip
        pipeline = pipeline_command(root)
        pipeline_rows: dict[str, int] = {}

        def start_from_the_same_warehouse(env: dict[str, str]) -> None:
            warehouse = Path(env["SPARKIFY_DUCKDB_PATH"])
            if start.exists():
                shutil.copy(start, warehouse)
            else:
                warehouse.unlink(missing_ok=True)

        def same_tables_as_the_pipeline(label: str) -> None:
            dag_rows = row_counts(Path(dag_env["SPARKIFY_DUCKDB_PATH"]))
            if pipeline_rows != dag_rows:
                sys.exit(f"{label} and make pipeline left different tables: {pipeline_rows} against {dag_rows}")

        walls: dict[str, list[float]] = {name: [] for name in ("pipeline", "dag", "dag in airflow", "scheduler",
                                                               "scheduler without freshness")}  # fmt: skip
        for run in range(1, runs + 1):
            print(f"  run {run}")
            for env in (pipeline_env, dag_env):
                start_from_the_same_warehouse(env)
            walls["pipeline"].append(measure(pipeline, pipeline_env, "make pipeline")[0])
            pipeline_rows = row_counts(Path(pipeline_env["SPARKIFY_DUCKDB_PATH"]))
            home = workdir / f"airflow-{run}"
            home.mkdir()
            shutil.copy(migrated / "airflow.db", home / "airflow.db")
            env = dag_env | {"AIRFLOW_HOME": str(home), "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos")}
            dag = [str(AIRFLOW), "dags", "test", DAG_ID, "--mark-success-pattern", FRESHNESS]
            wall, _, output = measure_with_output(dag, env, "airflow dags test")
            walls["dag"].append(wall)
            walls["dag in airflow"].append(float(re.findall(r"run_duration=([\d.]+)", output)[-1]))
            print(f"    {'the run in Airflow':<28} {walls['dag in airflow'][-1]:8.1f} s", flush=True)
            same_tables_as_the_pipeline("airflow dags test")
        with scheduler(dag_env, workdir / "airflow-scheduler") as env:
            for run in range(1, runs + 1):
                start_from_the_same_warehouse(dag_env)
                duration, without_freshness = scheduled_run(env, f"bench-{run}")
                walls["scheduler"].append(duration)
                walls["scheduler without freshness"].append(without_freshness)
                print(f"    scheduled run {run}: {duration:.1f} s, {without_freshness:.1f} s without the freshness "
                      "check", flush=True)  # fmt: skip
                same_tables_as_the_pipeline("the scheduled run")
    median = {name: statistics.median(values) for name, values in walls.items()}
    print(f"Figures at {scale} ({work}; medians; the same tables on all sides):")
    print(f"  make pipeline:                                  {median['pipeline']:6.1f} s")
    for name, label in (
        ("dag", "airflow dags test sparkify_daily"),
        ("dag in airflow", "  the run's duration in Airflow"),
        ("scheduler without freshness", "under the scheduler, without freshness"),
        ("scheduler", "  the whole run, freshness included"),
    ):
        print(f"  {label + ':':<46} {median[name]:6.1f} s, DAG / pipeline {median[name] / median['pipeline']:.2f}x")
    print("  (target: DAG / pipeline <= 2)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["sample", *SCALES], default="1m", help="data size (default: %(default)s)")
    parser.add_argument("--runs", type=int, help="runs of each side (default: 3 for sample and 1m, 1 for 10m)")
    args = parser.parse_args()
    if args.scale == "sample" and not (SAMPLE / "log_data").is_dir():
        parser.error(f"no log_data/ under {SAMPLE}")
    (PROJECT_DIR / "data").mkdir(exist_ok=True)
    bench_dag(args.scale, args.runs or (1 if args.scale == "10m" else 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
