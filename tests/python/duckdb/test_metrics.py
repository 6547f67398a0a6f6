"""The semantic layer on DuckDB, on the real sample: `make metrics` (mf query) gives every metric
as a query of the marts written independently in support/metrics.py gives it, and prints the
table of the docs' example. Two `make metrics` runs in all."""

from __future__ import annotations

import pytest
from support.metrics import (
    DAILY_ACTIVE_USERS_SQL,
    PLAYS_BY_DAY_SQL,
    SCALAR_METRICS,
    by_day,
    check_make,
    expected_figures,
    metrics_row,
    printed_by_day,
    printed_table,
)


@pytest.fixture(scope="module")
def warehouse(real_sample_build):
    warehouse, _ = real_sample_build
    return warehouse


@pytest.fixture(scope="module")
def all_metrics(warehouse, tmp_path_factory) -> dict[str, float]:
    """Every metric that needs no metric_time, from one `make metrics` run, written as CSV."""
    out = tmp_path_factory.mktemp("metrics") / "all.csv"
    check_make(warehouse.make("metrics", f"METRICS={','.join(SCALAR_METRICS)}", f"CSV={out}"))
    return metrics_row(out)


def test_every_metric_equals_its_query_of_the_marts(all_metrics, warehouse):
    expected = expected_figures(warehouse.query)
    assert set(all_metrics) == set(expected)
    assert all_metrics == pytest.approx(expected, rel=1e-9)


def test_the_known_figures_of_the_real_sample(all_metrics):
    assert all_metrics["plays"] == 6820
    assert all_metrics["paid_play_share"] == pytest.approx(5591 / 6820)
    assert all_metrics["free_to_paid_upgrades"] == 8


def test_make_metrics_prints_plays_and_daily_active_users_by_day(warehouse, monkeypatch):
    # An empty ORDER in the environment, as a make above this one exports it (make test does),
    # still means: in the order of BY. Only for this test: the warehouse is the session's.
    monkeypatch.setattr(warehouse, "env", {**warehouse.env, "ORDER": ""})
    printed = check_make(warehouse.make("metrics", "METRICS=plays,daily_active_users", "BY=metric_time__day")).stdout
    rows = printed_table(printed)

    assert [row["metric_time__day"] for row in rows] == sorted(row["metric_time__day"] for row in rows)
    assert printed_by_day(rows, "daily_active_users") == by_day(warehouse.query, DAILY_ACTIVE_USERS_SQL)
    assert printed_by_day(rows, "plays") == by_day(warehouse.query, PLAYS_BY_DAY_SQL)
