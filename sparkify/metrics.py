"""The semantic layer's commands (models/semantic/, docs/metrics.md), run by the project's venv.

    python -m sparkify.metrics mf query --metrics plays --group-by metric_time__week
    python -m sparkify.metrics export --out target/dashboard-metrics.json

``mf`` is MetricFlow's own CLI (dbt-metricflow's ``mf``: ``make metrics`` and ``make lint``
run it so), after a ``dbt parse`` in the same process, so that it always reads a semantic
manifest of the current project and target. MetricFlow reads that manifest from dbt's target
path (``DBT_TARGET_PATH`` when set, as in the tests and the Airflow DAG) through a view of the
project (``project_for_metricflow``).

``export`` runs the dashboard's saved queries (models/semantic/_saved_queries.yml) through
MetricFlow's Python interface (``MetricFlowEngine``) in one process and writes their rows as
JSON. The dashboard (sparkify/dashboard.py) draws from that file in its own venv, which
needs no dbt. On the local target it first checks that the warehouse exists and holds plays,
and holds it (sparkify.warehouse) while it reads.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from sparkify import warehouse

PROJECT_DIR = Path(__file__).resolve().parents[1]
# The saved queries that the dashboard draws, in the order it shows them, each with its rows'
# order and limit: dbt 1.11 flags a saved query's own order_by and limit as unknown keys.
DASHBOARD_SAVED_QUERIES = {
    "dashboard_headlines": ((), None),
    "dashboard_plays_by_hour": (("play_time__hour_of_day", "songplay__level"), None),
    "dashboard_plays_by_weekday": (("play_time__weekday",), None),
    "dashboard_level_paths": (("-profiled_users", "user_profile__level_path"), None),
    "dashboard_plays_by_device_type": (("user_agent__device_type", "songplay__level"), None),
    "dashboard_plays_by_browser": (("user_agent__browser", "songplay__level"), None),
    "dashboard_top_metro_areas": (("-plays", "songplay__metro_area"), 10),
    "dashboard_top_states": (("-plays", "songplay__state"), 15),
    "dashboard_top_songs": (("-plays", "song__title", "artist__name"), 10),
    "dashboard_top_artists": (("-plays", "artist__name"), 10),
    "dashboard_plays_per_user_by_level": (("user", "songplay__level"), None),
}
# The marts that the saved queries read (the dashboard's exposure declares them).
MARTS = ("songplays", "time", "songs", "artists", "users", "user_profiles", "user_level_periods", "user_agents")
SCHEMA = "analytics"
# What fills an empty warehouse: make build alone cannot, with nothing loaded.
FILL_THE_WAREHOUSE = (
    "run `make demo` (a generated sample) or `make pipeline LOCATION=<folder or s3:// prefix>` (your data) first"
)


def target_path() -> Path:
    """dbt's target folder: DBT_TARGET_PATH, else dbt_project.yml's target-path (target), relative to the
    project as dbt takes it."""
    return PROJECT_DIR / (os.environ.get("DBT_TARGET_PATH") or "target")


def is_local_target() -> bool:
    return os.environ.get("DBT_TARGET", "local") == "local"


def parse_project() -> None:
    """dbt parse in this process (partial parsing keeps it to a second or two): it writes the
    semantic manifest of the current target, which names the tables MetricFlow reads."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(["parse", "--quiet"])
    if not result.success:
        raise SystemExit(f"dbt parse failed: {result.exception or 'see the messages above'}")


@contextlib.contextmanager
def project_for_metricflow():
    """The project as MetricFlow should see it, with dbt's target path as its target folder.

    dbt-metricflow 0.15.0 reads the semantic manifest from target/ under the project dir only,
    whatever DBT_TARGET_PATH says; so, for another target path, MetricFlow gets a temporary
    folder of links to the project's entries with target linked to that path (dbt's logs stay
    the project's).
    """
    target = target_path()
    if target.resolve() == (PROJECT_DIR / "target").resolve():
        yield PROJECT_DIR
        return
    os.environ.setdefault("DBT_LOG_PATH", str(PROJECT_DIR / "logs"))
    with tempfile.TemporaryDirectory(prefix="sparkify-metricflow-") as folder:
        view = Path(folder)
        for entry in PROJECT_DIR.iterdir():
            if entry.name != "target":
                (view / entry.name).symlink_to(entry)
        (view / "target").symlink_to(target.resolve(), target_is_directory=True)
        yield view


def run_mf(args: list[str]) -> int:
    """MetricFlow's `mf` command line, on a fresh semantic manifest."""
    parse_project()
    from dbt_metricflow.cli.main import cli

    with project_for_metricflow() as project:
        os.environ["DBT_PROJECT_DIR"] = str(project)
        # Click's standalone mode, as the mf script runs it: usage errors in one line, and it exits.
        return cli.main(args=args, prog_name="mf")


def plain(value):
    """A cell as JSON holds it: decimals as floats, times as ISO text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def check_warehouse(database: Path) -> None:
    """Stop in one line, before dbt opens (and so creates) it, when the local warehouse has nothing to show."""
    if not database.is_file():
        raise SystemExit(f"No warehouse at {database}: {FILL_THE_WAREHOUSE}.")
    with warehouse.connect(database, read_only=True) as connection:
        present = {name for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
        ).fetchall()}  # fmt: skip
        missing = [mart for mart in MARTS if mart not in present]
        if missing:
            raise SystemExit(f"{database} has no {SCHEMA}.{', '.join(missing)}: {FILL_THE_WAREHOUSE}.")
        if not connection.execute(f"select count(*) from {SCHEMA}.songplays").fetchone()[0]:
            raise SystemExit(f"{database} holds no plays ({SCHEMA}.songplays is empty): {FILL_THE_WAREHOUSE}.")


def saved_query_rows(queries: dict[str, tuple[tuple[str, ...], int | None]]) -> dict[str, list[dict]]:
    """Each saved query's rows, ordered and limited as given, as dicts by column name, from one
    MetricFlow engine."""
    from dbt_metricflow.cli.cli_configuration import CLIConfiguration
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    config = CLIConfiguration()
    with project_for_metricflow() as project:
        config.setup(dbt_profiles_path=Path(os.environ.get("DBT_PROFILES_DIR", PROJECT_DIR)), dbt_project_path=project,
                     configure_file_logging=False)  # fmt: skip
        engine = config.mf
        exported = {}
        for name, (order_by, limit) in queries.items():
            request = MetricFlowQueryRequest.create(saved_query_name=name, order_by_names=order_by or None, limit=limit)
            table = engine.query(request).result_df
            exported[name] = [dict(zip(table.column_names, map(plain, row), strict=True)) for row in table.rows]
    return exported


def export(out: Path) -> dict:
    """Run the dashboard's saved queries and write their rows to out, as JSON."""
    started = time.monotonic()
    source = f"the {os.environ.get('DBT_TARGET', 'local')} target"
    if is_local_target():
        database = warehouse.duckdb_path()
        if not database.is_file():
            raise SystemExit(f"No warehouse at {database}: {FILL_THE_WAREHOUSE}.")
        source = str(database)
        with warehouse.exclusive(database):
            check_warehouse(database)
            parse_project()
            queries = saved_query_rows(DASHBOARD_SAVED_QUERIES)
    else:
        parse_project()
        queries = saved_query_rows(DASHBOARD_SAVED_QUERIES)
    exported = {
        "source": source,
        "exported_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "saved_queries": queries,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(exported, indent=1), encoding="utf-8")
    print(f"Wrote {len(queries)} saved queries from {source} to {out} in {time.monotonic() - started:.1f} s")
    return exported


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mf"]:
        return run_mf(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m sparkify.metrics", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("mf", help="MetricFlow's mf command line, after dbt parse: mf ARGS...")
    export_parser = commands.add_parser("export", help="write the dashboard's saved queries' rows as JSON")
    export_parser.add_argument("--out", type=Path, default=Path("target/dashboard-metrics.json"), help="JSON file")
    args = parser.parse_args(argv)
    try:
        export(args.out)
    except warehouse.WarehouseInUse as error:
        print(f"error: {error}", file=sys.stderr)
        return warehouse.IN_USE_EXIT_STATUS
    return 0


if __name__ == "__main__":
    sys.exit(main())
