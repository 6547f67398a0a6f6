"""Run the whole pipeline in one process: load the raw JSON, build and test the star schema.

The same steps as ``make load`` then ``dbt build``, but dbt is imported and the project
parsed once instead of per command: on the real sample that saves about 40% of the wall
time (``make bench`` measures both). The build leaves out the unit tests, as dbt advises for
production runs: their inputs are fixed, so they test the code, which ``make test`` and
``make build`` do; a daily run would spend more than a second on them.
"""

from __future__ import annotations

import argparse
import sys
import time

from sparkify import load

DAILY_BUILD = ("build", "--exclude-resource-type", "unit_test")
# What a person does next with a built warehouse: the Makefile's targets.
NEXT_COMMANDS = (
    ("make dashboard", "the dashboard: target/dashboard.html, which opens from disk"),
    ("make docs-serve", "the docs site: every model and column, and the lineage"),
    ("make airflow", "the daily DAG in Airflow's UI"),
)


def summary(row_counts: dict) -> list[str]:
    """The pipeline's closing lines: the rows of every table, the plays matched to a song
    (and why few may be), and the next commands."""
    counts = row_counts["row_counts"]
    width = max(map(len, counts))
    lines = ["Rows per table:", *(f"  {table:<{width}} {rows:>12,}" for table, rows in counts.items())]
    lines += [
        f"  songplays matched to a song: {row_counts['matched_plays']:,} of {counts['songplays']:,}",
        "  (a play gets its song_id only when the song files hold its title and artist; these hold "
        f"{counts['songs']:,} songs)",
        "Next:",
        *(f"  {command:<16} {what}" for command, what in NEXT_COMMANDS),
    ]
    return lines


def run(request: load.Request, show: tuple[str, ...] = ()) -> bool:
    """Load, build, test and summarise; True when every step succeeded."""
    try:
        with load.warehouse_held(request):
            return run_steps(request, load.check_before_dbt(request), show)
    except load.CannotStart as error:
        print(f"error: {error}", file=sys.stderr)
        return False


def run_steps(request: load.Request, listed, show: tuple[str, ...]) -> bool:
    started = time.monotonic()
    print("==> starting dbt", flush=True)
    from dbt.cli.main import dbtRunner  # imported here: it takes seconds, and --help should not wait

    events = load.Events()
    # The build writes manifest.json; the parse's would be overwritten.
    parsed = dbtRunner().invoke(["--quiet", "--no-write-json", "parse", *request.target_args])
    if not parsed.success:
        print("dbt could not parse the project; run `dbt parse` to see why.", file=sys.stderr)
        return False
    runner = dbtRunner(manifest=parsed.result, callbacks=[events])
    print("==> load", flush=True)
    step_started = time.monotonic()
    if not load.run(runner, events, request, listed):
        print("Pipeline stopped: load failed (see the messages above).", file=sys.stderr)
        return False
    print(f"    load took {time.monotonic() - step_started:.1f} s", flush=True)
    steps = [
        ("build and test", [*DAILY_BUILD, *(["--full-refresh"] if request.full_refresh else [])]),
        # No artifacts after the build's: run_results.json keeps its results.
        ("row counts", ["--no-write-json", "run-operation", "report_row_counts"]),
        *((f"analysis {name}", ["--no-write-json", "show", "--select", name, "--limit", "10"]) for name in show),
    ]
    for name, args in steps:
        step_started = time.monotonic()
        print(f"==> {name}", flush=True)
        result = runner.invoke([*args, *request.target_args])
        if not result.success:
            print(f"Pipeline stopped: {name} failed (see the messages above).", file=sys.stderr)
            return False
        print(f"    {name} took {time.monotonic() - step_started:.1f} s", flush=True)
    print(f"Pipeline finished in {time.monotonic() - started:.1f} s")
    print("\n".join(summary(events.row_counts)))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.pipeline", description=__doc__.splitlines()[0])
    load.add_arguments(parser)
    parser.add_argument(
        "--show", action="append", default=[], metavar="ANALYSIS",
        help="print the first rows of this analysis at the end (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        request = load.request_from(args)
    except load.CannotStart as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status
    return 0 if run(request, tuple(args.show)) else 1


if __name__ == "__main__":
    sys.exit(main())
