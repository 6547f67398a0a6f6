"""`make docs-serve` and `make airflow` run their server through sparkify.serve: Ctrl-C stops
it in one line, with no traceback and exit status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from support.project import PROJECT_DIR

# A stand-in server: a Python process that, like `dbt docs serve`, prints a KeyboardInterrupt
# traceback on SIGINT, says when it got SIGTERM, and says when it is ready.
SERVER = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: (print("got SIGTERM", flush=True), sys.exit(0)))
print("ready", flush=True)
time.sleep(60)
"""


def start(*options: str) -> subprocess.Popen:
    serving = subprocess.Popen(
        [sys.executable, "-m", "sparkify.serve", *options, "--", sys.executable, "-c", SERVER],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # a terminal's foreground group of its own, which Ctrl-C signals
    )  # fmt: skip
    assert serving.stdout.readline() == "ready\n"
    return serving


def ctrl_c(serving: subprocess.Popen) -> tuple[int, str, str]:
    """What a terminal does on Ctrl-C: SIGINT to every process of the foreground group."""
    os.killpg(serving.pid, signal.SIGINT)
    stdout, stderr = serving.communicate(timeout=30)
    return serving.returncode, stdout, stderr


def test_ctrl_c_stops_the_server_with_sigterm_and_no_traceback():
    status, stdout, stderr = ctrl_c(start())

    assert status == 0
    assert stdout == "got SIGTERM\n"
    assert stderr == f"\nStopped {Path(sys.executable).name}.\n"


def test_a_server_that_stops_on_sigint_is_sent_sigint_alone():
    status, stdout, stderr = ctrl_c(start("--stop-signal", "SIGINT"))

    # The server alone got SIGINT, once: its KeyboardInterrupt is its own to handle.
    assert status == 0
    assert "got SIGTERM" not in stdout
    assert stderr.count("KeyboardInterrupt") == 1


def test_a_server_that_ends_by_itself_passes_its_status_on():
    result = subprocess.run(
        [sys.executable, "-m", "sparkify.serve", "--", sys.executable, "-c", "raise SystemExit(3)"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode == 3
