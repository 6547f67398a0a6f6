"""Freshness on the Redshift double: the same ages give the same statuses as on DuckDB."""

from __future__ import annotations

from pathlib import Path

import psycopg2
from support.freshness import STATUS_AT_AGE, freshness_of_events, make_newest_event_this_old


def test_freshness_is_the_age_of_the_newest_event_as_on_duckdb(redshift, small_dataset):
    redshift.make_load(redshift.upload(small_dataset, "data"))
    target_path = Path(redshift.env["DBT_TARGET_PATH"])
    statuses = {}
    for age in STATUS_AT_AGE:
        with psycopg2.connect(redshift.dsn) as connection, connection.cursor() as cursor:
            cursor.execute(make_newest_event_this_old(age))
        statuses[age] = freshness_of_events(redshift.dbt("source", "freshness", check=False), target_path)
    assert statuses == STATUS_AT_AGE
