"""`make airflow` (sparkify.local_airflow) migrates Airflow's database before it starts the
servers: Ctrl-C then stops it as quietly as it stops the servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from support.project import PROJECT_DIR

# A stand-in for Airflow's CLI whose migration lasts until it is stopped.
SLOW_MIGRATION = """#!/bin/sh
if [ "$1 $2" = "db migrate" ]; then echo migrating; exec sleep 60; fi
echo "started $1"
"""


def test_ctrl_c_while_the_database_migrates_stops_it_quietly(tmp_path):
    stand_in = tmp_path / "airflow"
    stand_in.write_text(SLOW_MIGRATION)
    stand_in.chmod(0o755)
    starting = subprocess.Popen(
        [sys.executable, "-m", "sparkify.local_airflow"],
        cwd=PROJECT_DIR, env={**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # a terminal's foreground group of its own, which Ctrl-C signals
    )  # fmt: skip
    assert starting.stdout.readline() == "migrating\n"

    os.killpg(starting.pid, signal.SIGINT)  # Ctrl-C
    stdout, stderr = starting.communicate(timeout=30)

    assert starting.returncode == 0
    assert "started" not in stdout  # no server started after it
    assert stderr == "\nStopped before Airflow started.\n"
