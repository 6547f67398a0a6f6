"""The semantic layer on the Redshift double, on the real sample: `make metrics TARGET=redshift`
runs MetricFlow's Redshift SQL through dbt-redshift's adapter, and gives every metric as the
independent queries of support/metrics.py give it on the double's marts. Two `make metrics` runs."""

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
from support.redshift import RedshiftWarehouse, make_redshift_warehouse


@pytest.fixture(scope="module")
def redshift_sample(postgres, s3_endpoint, redshift_target_path, real_sample) -> RedshiftWarehouse:
    """The real sample loaded and its models built (no data tests: test_redshift_load runs them)."""
    redshift = make_redshift_warehouse(postgres, s3_endpoint, redshift_target_path, "redshift-metrics")
    redshift.make_load(redshift.upload(real_sample, "sample"))
    redshift.dbt("build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    return redshift


def make_metrics(redshift: RedshiftWarehouse, *args: str):
    return check_make(redshift.run("make", "--no-print-directory", "metrics", "TARGET=redshift", *args, check=False))


@pytest.fixture(scope="module")
def all_metrics(redshift_sample, tmp_path_factory) -> dict[str, float]:
    out = tmp_path_factory.mktemp("metrics") / "all.csv"
    make_metrics(redshift_sample, f"METRICS={','.join(SCALAR_METRICS)}", f"CSV={out}")
    return metrics_row(out)


def test_every_metric_equals_its_query_of_the_marts_on_redshift(all_metrics, redshift_sample):
    expected = expected_figures(redshift_sample.query)
    assert set(all_metrics) == set(expected)
    assert all_metrics == pytest.approx(expected, rel=1e-9)
    assert (all_metrics["plays"], all_metrics["paid_plays"], all_metrics["free_to_paid_upgrades"]) == (6820, 5591, 8)


def test_make_metrics_prints_plays_and_daily_active_users_by_day_on_redshift(redshift_sample):
    printed = make_metrics(redshift_sample, "METRICS=plays,daily_active_users", "BY=metric_time__day").stdout
    rows = printed_table(printed)

    assert printed_by_day(rows, "daily_active_users") == by_day(redshift_sample.query, DAILY_ACTIVE_USERS_SQL)
    assert printed_by_day(rows, "plays") == by_day(redshift_sample.query, PLAYS_BY_DAY_SQL)
