"""The project's Python commands, started from a process that has imported dbt already.

A command of the project (`python -m sparkify.load`, `python -m sparkify.pipeline`, `dbt`)
spends about 1.5 s of CPU importing dbt before it does anything, and the tests start hundreds.
So each pytest worker keeps one process, the forkserver of multiprocessing, that imported dbt
and the project's modules once; each command is a fork of it, with the test's environment,
working directory, arguments and standard streams, run as `python -m` or the `dbt` script run
it, and its exit status. A fork runs nothing that ran before it: the forkserver imports and
never calls dbt, so no command sees another's state. What a fork cannot do as a fresh
interpreter does is run sitecustomize at start-up, so a command meant for the Redshift double
installs it as sitecustomize would.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

from support.redshift_double import DSN_VARIABLE
from support.redshift_double import install as install_redshift_double

# Imported once, in the forkserver: dbt's CLI and both adapters. Not the project's entry points,
# which each fork runs as __main__ (runpy warns of a module run that was imported before).
PRELOADED = ["dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.redshift"]

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOADED)


def _run(command: list[str], env: dict[str, str], cwd: str, stdout: str, stderr: str) -> None:
    """In the fork: become the command, as a fresh `python -m module` or `dbt` would be."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.path[:0] = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path]
    for stream, path in ((sys.stdout, stdout), (sys.stderr, stderr)):
        stream.flush()
        os.dup2(os.open(path, os.O_WRONLY), stream.fileno())
    if DSN_VARIABLE in env:
        install_redshift_double()
    status = 0
    try:
        if command[0] == "dbt":
            from dbt.cli.main import cli

            sys.argv = command
            cli()
        else:  # ["python", "-m", module, *args]
            sys.argv = [command[2], *command[3:]]
            runpy.run_module(command[2], run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        # As the interpreter treats sys.exit's argument: a number, None for 0, or a message and 1.
        if isinstance(exit_.code, int | None):
            status = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
            status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    # Through multiprocessing's own exit, which runs the finalizers a fresh interpreter would.
    sys.exit(status)


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run `python -m <module> ...` or `dbt ...` as a fork of the preloaded process."""
    if not (command[0] == "dbt" or command[:2] == ["python", "-m"]):
        raise ValueError(f"not a preloaded command: {command}")
    with tempfile.TemporaryDirectory(prefix="sparkify-command-") as folder:
        stdout, stderr = Path(folder, "stdout"), Path(folder, "stderr")
        stdout.touch()
        stderr.touch()
        process = _context.Process(target=_run, args=(command, env, str(cwd), str(stdout), str(stderr)))
        process.start()
        process.join()
        return subprocess.CompletedProcess(command, process.exitcode, stdout.read_text(), stderr.read_text())
