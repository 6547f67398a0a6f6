"""Parse the DAGs folder once per environment and write what Airflow sees as JSON.

Run by Airflow's own venv, not pytest's (test_airflow_dag.py calls it):
    .venv-airflow/bin/python describe_airflow_dag.py DAGS_FOLDER SCENARIOS_JSON OUT_JSON
SCENARIOS_JSON maps a scenario name to the environment variables it sets (null unsets one).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from airflow.dag_processing.dagbag import BundleDagBag


def describe(dag) -> dict:
    return {
        "schedule": str(dag.schedule),
        "catchup": dag.catchup,
        "max_active_tasks": dag.max_active_tasks,
        "tasks": {
            task.task_id: {
                "operator": type(task).__name__,
                "upstream": sorted(task.upstream_task_ids),
                "retries": task.retries,
                "retry_exponential_backoff": bool(task.retry_exponential_backoff),
                "bash_command": getattr(task, "bash_command", None),
                "dbt_cmd_flags": getattr(task, "dbt_cmd_flags", None),
                # Cosmos's watcher mode: the build's command and which tests make up each test
                # task's result; what each task that follows the build watches, and how it waits.
                "base_cmd": getattr(task, "base_cmd", None),
                "tests_per_model": getattr(task, "tests_per_model", None),
                "model_unique_id": getattr(task, "model_unique_id", None),
                "is_test_sensor": getattr(task, "is_test_sensor", None),
                "reschedule": getattr(task, "reschedule", None),
                "deferrable": getattr(task, "deferrable", None),
                "env": {
                    key: value
                    for key, value in (getattr(task, "env", None) or {}).items()
                    if key != "SPARKIFY_RAW_LOCATION"
                },
                "has_failure_callback": bool(task.on_failure_callback),
            }
            for task in dag.tasks
        },
    }


def main(dags_folder: str, scenarios: str, out: str) -> None:
    report = {}
    for name, env in json.loads(scenarios).items():
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        # As the DAG processor reads the folder: a bundle, on sys.path for the DAG's own modules.
        bag = BundleDagBag(dag_folder=dags_folder, bundle_path=Path(dags_folder))
        dag = bag.dags.get("sparkify_daily")
        report[name] = {
            "import_errors": {str(path): error for path, error in bag.import_errors.items()},
            "dag": describe(dag) if dag else None,
        }
    Path(out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:])
