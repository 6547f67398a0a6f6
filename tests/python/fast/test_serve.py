"""`make docs-serve` and `make airflow` run their servers through sparkify.serve: Ctrl-C stops
them in one line, with no traceback and exit status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from support.project import PROJECT_DIR

# A stand-in server: a Python process that, like `dbt docs serve`, prints a KeyboardInterrupt
# traceback on SIGINT, says when it got SIGTERM, and says when it is ready. Each line in one
# write, whole on a pipe that several servers share.
SERVER = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: (os.write(1, b"got SIGTERM\\n"), sys.exit(0)))
os.write(1, b"ready\\n")
time.sleep(60)
"""


def start(script: str, ready_lines: int = 1) -> subprocess.Popen:
    serving = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # a terminal's foreground group of its own, which Ctrl-C signals
    )  # fmt: skip
    assert [serving.stdout.readline() for _ in range(ready_lines)] == ["ready\n"] * ready_lines
    return serving


def serve_one() -> subprocess.Popen:
    """`python -m sparkify.serve -- <server>`, as make docs-serve runs it."""
    script = f"from sparkify.serve import main; main(['--', {sys.executable!r}, '-c', {SERVER!r}])"
    return start(script)


def serve_several(servers: dict[str, str]) -> subprocess.Popen:
    """sparkify.serve's serve() of several named servers, as sparkify.local_airflow runs Airflow's parts."""
    commands = {name: [sys.executable, "-c", code] for name, code in servers.items()}
    return start(f"import sys; from sparkify.serve import serve; sys.exit(serve({commands!r}))", len(servers))


def ctrl_c(serving: subprocess.Popen) -> tuple[int, str, str]:
    """What a terminal does on Ctrl-C: SIGINT to every process of the foreground group."""
    os.killpg(serving.pid, signal.SIGINT)
    stdout, stderr = serving.communicate(timeout=30)
    return serving.returncode, stdout, stderr


def test_ctrl_c_stops_the_server_with_sigterm_and_no_traceback():
    status, stdout, stderr = ctrl_c(serve_one())

    assert status == 0
    assert stdout == "got SIGTERM\n"
    assert stderr == f"\nStopped {Path(sys.executable).name}.\n"


def test_ctrl_c_stops_every_server_with_sigterm():
    status, stdout, stderr = ctrl_c(serve_several({"first": SERVER, "second": SERVER}))

    assert status == 0
    assert stdout == "got SIGTERM\n" * 2
    assert stderr == "\nStopped first, second.\n"


def test_a_server_that_ends_stops_the_others_and_passes_its_status_on(tmp_path):
    # It ends once the other is ready, so that the other is stopped, not killed before it starts.
    lasting = tmp_path / "lasting-is-ready"
    lasts = SERVER.replace('os.write(1, b"ready\\n")', f'os.write(1, b"ready\\n"); open({str(lasting)!r}, "w")')
    ends = f"import os, time\nwhile not os.path.exists({str(lasting)!r}): time.sleep(0.01)\nprint('ready'); sys.exit(3)"
    serving = serve_several({"lasting": lasts, "ending": "import sys\n" + ends})
    stdout, stderr = serving.communicate(timeout=30)

    assert serving.returncode == 3
    assert stdout == "got SIGTERM\n"
    assert stderr == "ending ended (exit status 3): stopping lasting.\n"


def test_a_server_that_ends_by_itself_passes_its_status_on():
    result = subprocess.run(
        [sys.executable, "-m", "sparkify.serve", "--", sys.executable, "-c", "raise SystemExit(3)"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode == 3
