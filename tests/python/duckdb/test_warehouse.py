"""The DuckDB warehouse as the project's commands share it (sparkify/warehouse.py): a warehouse
that another process holds is one line and exit status 2, however close the race, on make
build, make freshness and the dashboard's export; and dbt on a warehouse never loaded says to load it."""

from __future__ import annotations

import os
import re
import subprocess

import duckdb
import pytest
from support.project import BIN, PROJECT_DIR

from sparkify import generate

NOT_LOADED = "The warehouse has no loaded data: run `make load` (or `make demo`) first."
# A command that holds the warehouse until the test closes its stdin, once it says so.
HOLD = ["sh", "-c", "echo ready; read line"]


def in_use_line(warehouse) -> str:
    """How the one line about a warehouse in use starts."""
    return f"error: the warehouse {warehouse.env['SPARKIFY_DUCKDB_PATH']} is in use by "


def holding(warehouse) -> subprocess.Popen:
    """`python -m sparkify.warehouse run -- sh -c ...` that holds the warehouse until its stdin closes."""
    return subprocess.Popen(
        [str(BIN / "python"), "-m", "sparkify.warehouse", "run", "--", *HOLD],
        cwd=PROJECT_DIR, env=warehouse.env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def make(warehouse, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=PROJECT_DIR, env=warehouse.env, capture_output=True, text=True
    )


def own_lines(stderr: str) -> list[str]:
    """stderr less make's own line about the failed recipe."""
    # make names itself make[N] when another make started it, as `make test` starts the tests.
    return [line for line in stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\*", line)]


def test_of_two_commands_started_together_one_runs_and_the_other_names_it(warehouse):
    first, second = holding(warehouse), holding(warehouse)
    # The winner prints once it holds the warehouse; the loser exits, which ends its stdout.
    said = {process: process.stdout.readline() for process in (first, second)}
    [winner] = [process for process, line in said.items() if line == "ready\n"]
    [loser] = [process for process in (first, second) if process is not winner]
    try:
        assert loser.wait() == 2
        [line] = loser.stderr.read().splitlines()
        assert line.startswith(in_use_line(warehouse))
        assert f"sh -c 'echo ready; read line' (PID {winner.pid})" in line
        assert line.endswith("then run the command again.")
    finally:
        # Killed, not let finish: the kernel releases the lock of a process however it ends.
        winner.kill()
        winner.wait()
    after = warehouse.run("python", "-m", "sparkify.warehouse", "run", "--", "true")
    assert (after.returncode, after.stderr) == (0, "")


def test_make_build_on_a_warehouse_another_process_holds_is_one_line(warehouse):
    with duckdb.connect(str(warehouse.path)):
        wrapped = warehouse.run("python", "-m", "sparkify.warehouse", "run", "--", str(BIN / "dbt"), "build")
        made = make(warehouse, "build")

    assert wrapped.returncode == 2
    assert wrapped.stdout == ""
    [line] = wrapped.stderr.splitlines()
    assert line.startswith(in_use_line(warehouse))
    assert f"(PID {os.getpid()})" in line
    assert made.returncode != 0
    assert own_lines(made.stderr) == [line]
    assert "Traceback" not in made.stdout


def test_make_freshness_on_a_warehouse_another_command_holds_is_one_line(warehouse):
    holder = holding(warehouse)
    try:
        assert holder.stdout.readline() == "ready\n"
        made = make(warehouse, "freshness")
    finally:
        holder.kill()
        holder.wait()

    [line] = own_lines(made.stderr)
    assert line.startswith(in_use_line(warehouse))
    assert f"(PID {holder.pid})" in line


@pytest.mark.parametrize("holder", ["duckdb", "project command"])
def test_the_dashboards_export_on_a_warehouse_another_process_writes_is_one_line(warehouse, tmp_path, holder):
    """The part of `make dashboard` that reads the warehouse: its saved queries, through MetricFlow."""
    duckdb.connect(str(warehouse.path)).close()
    if holder == "duckdb":
        held, holder_pid = duckdb.connect(str(warehouse.path)), os.getpid()
    else:
        held = holding(warehouse)
        assert held.stdout.readline() == "ready\n"
        holder_pid = held.pid
    try:
        result = warehouse.run("python", "-m", "sparkify.metrics", "export", "--out", str(tmp_path / "metrics.json"))
    finally:
        if holder == "duckdb":
            held.close()
        else:
            held.kill()
            held.wait()

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(in_use_line(warehouse))
    assert f"(PID {holder_pid})" in line
    assert not (tmp_path / "metrics.json").exists()


def assert_says_to_load_first(output: str) -> None:
    assert [line.strip() for line in output.splitlines() if "no loaded data" in line] == [NOT_LOADED]
    assert "does not exist" not in output
    assert "Traceback" not in output
    assert " START " not in output  # no model, test or source was run


def test_dbt_build_on_a_warehouse_never_loaded_says_to_load_it(warehouse):
    result = warehouse.dbt("build", check=False)

    assert result.returncode != 0
    assert_says_to_load_first(result.stdout + result.stderr)


def test_make_freshness_on_a_warehouse_never_loaded_says_to_load_it(warehouse):
    result = make(warehouse, "freshness")

    assert result.returncode != 0
    assert_says_to_load_first(result.stdout + result.stderr)


def test_seed_then_load_then_build_are_not_stopped_on_a_new_warehouse(warehouse, tmp_path):
    raw = tmp_path / "raw"
    generate.generate(raw, users=5, days=1, songs=3, seed=11)

    warehouse.dbt("seed")
    warehouse.load(raw)
    build = warehouse.dbt("build")

    assert "no loaded data" not in build.stdout
    assert "OK hook: sparkify.on-run-start.0" in build.stdout
