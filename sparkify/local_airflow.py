"""Airflow on this machine, its servers on 127.0.0.1 only: what `make airflow` runs.

    python -m sparkify.local_airflow

It runs what `airflow standalone` runs: the metadata database's migration, then the API server
(the UI), the scheduler, the DAG processor and the triggerer, until Ctrl-C (sparkify.serve).
But standalone also starts the scheduler's and the triggerer's log servers, on every interface
(Airflow's serve_logs binds 0.0.0.0, whatever the API's host). They exist to hand a task's log
to an API server on another machine; on this one, the API server reads the log files itself.
So they are left out (--skip-serve-logs), and the API server listens on 127.0.0.1. Airflow's
other settings (its home, the port, the DAGs folder) come from the environment, as make sets
them, and `airflow` from PATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

from sparkify.serve import serve

HOST = "127.0.0.1"
# Airflow tuned for one DAG on one machine.
SETTINGS = {
    # Worker processes: Airflow's default, 32, is for a server.
    "AIRFLOW__CORE__PARALLELISM": "4",
    # How often the idle scheduler looks for work (default: every second). On DuckDB the daily
    # run's 40-odd tasks run one after the other, and the default added up to a second to each
    # (docs/benchmarks.md).
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
}
COMPONENTS = {
    "api-server": ["airflow", "api-server"],
    "scheduler": ["airflow", "scheduler", "--skip-serve-logs"],
    "dag-processor": ["airflow", "dag-processor"],
    "triggerer": ["airflow", "triggerer", "--skip-serve-logs"],
}


def components_healthy(port: int) -> bool:
    """Whether the API server on this port answers, and sees the scheduler, the DAG processor
    and the triggerer healthy."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v2/monitor/health", timeout=5) as response:
            health = json.load(response)
    except OSError:
        return False
    return all(health[part]["status"] == "healthy" for part in ("scheduler", "dag_processor", "triggerer"))


def main() -> int:
    # In the environment rather than as api-server's --host: the simple auth manager reads the
    # setting, and warns that a server on another host looks like production.
    os.environ["AIRFLOW__API__HOST"] = HOST
    # A setting of the environment's own wins.
    for name, value in SETTINGS.items():
        os.environ.setdefault(name, value)
    # The tasks reach the execution API at the base URL, which Airflow does not derive from the
    # port: on another port than its default, they would call a server that is not there.
    if port := os.environ.get("AIRFLOW__API__PORT"):
        os.environ.setdefault("AIRFLOW__API__BASE_URL", f"http://localhost:{port}")
    try:
        migrated = subprocess.run(["airflow", "db", "migrate"])
    except KeyboardInterrupt:  # Ctrl-C reaches the migration too, in the terminal's group
        print("\nStopped before Airflow started.", file=sys.stderr)
        return 0
    if migrated.returncode != 0:
        return migrated.returncode
    return serve(COMPONENTS)


if __name__ == "__main__":
    sys.exit(main())
