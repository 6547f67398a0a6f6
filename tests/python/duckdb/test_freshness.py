"""`make freshness` tells how old the newest event is, not how long since the last load."""

from __future__ import annotations

from pathlib import Path

import duckdb
from support.freshness import STATUS_AT_AGE, freshness_of_events, make_newest_event_this_old


def test_freshness_is_the_age_of_the_newest_event_not_of_the_last_load(warehouse, small_dataset):
    # The load is seconds old at every check: measured on the loads, all would pass.
    warehouse.load(small_dataset)
    target_path = Path(warehouse.env["DBT_TARGET_PATH"])
    statuses = {}
    for age in STATUS_AT_AGE:
        with duckdb.connect(str(warehouse.path)) as connection:
            connection.execute(make_newest_event_this_old(age))
        statuses[age] = freshness_of_events(warehouse.dbt("source", "freshness", check=False), target_path)
    assert statuses == STATUS_AT_AGE
