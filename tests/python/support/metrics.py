"""The semantic layer's metrics, and the same figures written independently as SQL over the
marts (the metrics' YAML is not read here): the tests of both targets run `make metrics` and
compare. The SQL runs on DuckDB and on PostgreSQL (the Redshift double) alike; the medians are
taken in Python, from the rows."""

from __future__ import annotations

import csv
import statistics
import subprocess
from pathlib import Path

# Every metric that needs no metric_time, and each one's figure over all time.
SCALAR_SQL = {
    "plays": "select count(*) from analytics.songplays",
    "paid_plays": "select count(*) from analytics.songplays where level = 'paid'",
    "matched_plays": "select count(*) from analytics.songplays where song_id is not null",
    "listeners": "select count(distinct user_id) from analytics.songplays",
    "users": "select count(*) from analytics.users",
    "profiled_users": "select count(*) from analytics.user_profiles",
    "single_session_users": "select count(*) from analytics.user_profiles where sessions = 1",
    "sessions": "select count(*) from analytics.sessions",
    "session_plays": "select sum(plays) from analytics.sessions",
    "free_to_paid_upgrades": (
        "select count(*) from analytics.user_level_periods where previous_level = 'free' and level = 'paid'"
    ),
    "paid_to_free_downgrades": (
        "select count(*) from analytics.user_level_periods where previous_level = 'paid' and level = 'free'"
    ),
    "free_starters": ("select count(*) from analytics.user_level_periods where period_number = 1 and level = 'free'"),
    # Users whose first period is free with any later period at paid.
    "free_starters_upgraded": """
        select count(*) from analytics.user_level_periods as first_period
        where first_period.period_number = 1 and first_period.level = 'free' and exists (
            select 1 from analytics.user_level_periods as later
            where later.user_id = first_period.user_id and later.period_number > 1 and later.level = 'paid'
        )""",
}
# Medians, from the values themselves.
MEDIAN_SQL = {
    "median_session_minutes": "select duration_seconds / 60.0 from analytics.sessions",
    "median_plays_before_first_upgrade": (
        "select plays_before_first_upgrade from analytics.user_profiles where plays_before_first_upgrade is not null"
    ),
}
RATIOS = {
    "paid_play_share": ("paid_plays", "plays"),
    "single_session_user_share": ("single_session_users", "profiled_users"),
    "plays_per_session": ("session_plays", "sessions"),
    "upgrade_rate": ("free_starters_upgraded", "free_starters"),
}
SCALAR_METRICS = [*SCALAR_SQL, *MEDIAN_SQL, *RATIOS]
# Plays, and distinct users with a play, per day (UTC).
PLAYS_BY_DAY_SQL = """
    select cast(start_time as date) as day, count(*)
    from analytics.songplays
    group by cast(start_time as date)"""
DAILY_ACTIVE_USERS_SQL = """
    select cast(start_time as date) as day, count(distinct user_id)
    from analytics.songplays where user_id is not null
    group by cast(start_time as date)"""


def expected_figures(query) -> dict[str, float]:
    """Every scalar metric, from the marts, through query (a function of SQL giving rows)."""
    figures = {metric: float(query(sql)[0][0]) for metric, sql in SCALAR_SQL.items()}
    figures |= {metric: float(statistics.median(float(row[0]) for row in query(sql)))
                for metric, sql in MEDIAN_SQL.items()}  # fmt: skip
    figures |= {metric: figures[over] / figures[under] for metric, (over, under) in RATIOS.items()}
    return figures


def by_day(query, sql: str) -> dict[str, int]:
    """A day-by-day figure, by the ISO date of the day."""
    return {str(day)[:10]: int(value) for day, value in query(sql)}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def metrics_row(path: Path) -> dict[str, float]:
    """The one row that `make metrics CSV=path` writes for metrics grouped by nothing, as numbers."""
    [row] = read_csv(path)
    return {metric: float(value) for metric, value in row.items()}


def printed_by_day(rows: list[dict[str, str]], metric: str) -> dict[str, int]:
    """A metric of a table grouped by metric_time__day, by the ISO date of the day, as by_day gives it."""
    return {row["metric_time__day"][:10]: int(row[metric]) for row in rows}


def printed_table(output: str) -> list[dict[str, str]]:
    """The rows of the table that mf query prints (tabulate's plain format: a header, a line of
    dashes, then the rows; the columns as wide as the dashes)."""
    lines = output.splitlines()
    rule = next(i for i, line in enumerate(lines) if line and set(line) <= {"-", " "})
    spans = []
    position = 0
    for part in lines[rule].split(" "):
        if part:
            spans.append((position, position + len(part)))
        position += len(part) + 1
    header = [lines[rule - 1][a:b].strip() for a, b in spans]
    return [dict(zip(header, (line[a:b].strip() for a, b in spans), strict=True))
            for line in lines[rule + 1:] if line.strip()]  # fmt: skip


def check_make(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result
