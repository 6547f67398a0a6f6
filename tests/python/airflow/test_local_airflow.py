"""`make airflow` runs Airflow's components with sparkify.local_airflow: every server on
127.0.0.1 only, and Ctrl-C stops them all. Checked on the real components, in a throwaway
AIRFLOW_HOME, on the sockets that its processes listen on."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from support.airflow_home import AIRFLOW_BIN, airflow_env, require_airflow
from support.project import PROJECT_DIR
from support.warehouse import make_warehouse

from sparkify.local_airflow import components_healthy
from sparkify.serve import free_port


def listening(process: psutil.Process) -> set[tuple[str, int]]:
    """The addresses that a process and its descendants listen on."""
    found = set()
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):  # a process that ended since it was listed
            found |= {(c.laddr.ip, c.laddr.port) for c in member.net_connections("tcp") if c.status == "LISTEN"}
    return found


def test_make_airflow_starts_every_server_on_localhost_only_and_ctrl_c_stops_them_all(tmp_path):
    """`airflow standalone` started the scheduler's and the triggerer's log servers on 0.0.0.0.
    Here they get free ports of their own, so that, were they started, they would be seen,
    whatever else runs on this machine."""
    require_airflow()
    api_port = free_port()
    env = airflow_env(
        tmp_path / "airflow", make_warehouse(tmp_path),
        PATH=f"{AIRFLOW_BIN}{os.pathsep}{os.environ['PATH']}",  # as make airflow sets it
        AIRFLOW__API__PORT=str(api_port),
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
    )  # fmt: skip
    with (tmp_path / "airflow.log").open("w") as log:
        airflow = subprocess.Popen(
            [sys.executable, "-m", "sparkify.local_airflow"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's foreground group of its own, which Ctrl-C signals
        )  # fmt: skip
    supervisor = psutil.Process(airflow.pid)
    try:
        # Every socket seen while the components start, and once more when all of them are up.
        seen: set[tuple[str, int]] = set()
        deadline = time.monotonic() + 180
        while not components_healthy(api_port):
            assert airflow.poll() is None, (tmp_path / "airflow.log").read_text()[-5000:]
            if time.monotonic() > deadline:  # a hang, not a slow start
                pytest.fail("Airflow's components are still not up after 3 minutes")
            seen |= listening(supervisor)
            time.sleep(1)
        seen |= listening(supervisor)
        processes = [supervisor, *supervisor.children(recursive=True)]
    finally:
        os.killpg(airflow.pid, signal.SIGINT)  # Ctrl-C
        airflow.wait(timeout=60)

    assert ("127.0.0.1", api_port) in seen
    assert {host for host, _ in seen} == {"127.0.0.1"}, seen
    assert airflow.returncode == 0
    _, still_running = psutil.wait_procs(processes, timeout=30)
    assert still_running == []
