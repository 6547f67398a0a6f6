"""The var raw_retention_days: each `make load` deletes the raw events older than that many
days, by their time, says how many, and leaves the marts as they were built (docs/privacy.md)."""

from __future__ import annotations

import datetime as dt
import json
import re

from sparkify import generate


def test_a_load_keeps_the_days_of_raw_events_it_is_told_and_the_marts_keep_theirs(warehouse, tmp_path):
    raw = tmp_path / "raw"
    today = dt.datetime.now(dt.UTC).date()
    generate.generate(raw, users=8, days=4, songs=5, seed=3, start=today - dt.timedelta(days=4))
    built = warehouse.pipeline(raw)
    assert built.returncode == 0, built.stdout + built.stderr
    marts = (
        "select (select count(*) from analytics.songplays), (select count(*) from analytics.users), "
        "(select count(*) from analytics.user_level_periods), (select sum(plays) from analytics.user_profiles)"
    )
    before = warehouse.query(marts)

    env = warehouse.env
    warehouse.env = {**env, "SPARKIFY_RAW_RETENTION_DAYS": "two"}
    refused = warehouse.load(raw, check=False)
    warehouse.env = {**env, "SPARKIFY_RAW_RETENTION_DAYS": "2"}
    kept = warehouse.load(raw)
    build = warehouse.dbt("build")

    assert refused.returncode != 0
    assert "raw_retention_days (SPARKIFY_RAW_RETENTION_DAYS) must be a whole number of days" in refused.stdout
    assert warehouse.scalar("select count(*) from raw.load_audit where status = 'failed'") == 0
    line = re.search(r"Retention \(2 days\): ([\d,]+) events before (\S+ \S+) UTC removed from raw\.staging_events",
                     kept.stdout)  # fmt: skip
    assert line, kept.stdout
    cutoff_ms = dt.datetime.fromisoformat(line[2]).replace(tzinfo=dt.UTC).timestamp() * 1000
    events = [json.loads(text) for path in (raw / "log_data").rglob("*.json") for text in path.read_text().splitlines()]
    older = sum(event["ts"] < cutoff_ms for event in events)
    assert 0 < older < len(events)
    assert int(line[1].replace(",", "")) == older
    assert warehouse.scalar("select count(*) from raw.staging_events") == len(events) - older
    assert warehouse.scalar(f"select count(*) from raw.staging_events where ts < {cutoff_ms}") == 0
    # The marts keep what they were built from: no rebuild, every data test passes.
    assert "ERROR=0" in build.stdout
    assert warehouse.query(marts) == before
    assert warehouse.scalar("select count(*) from raw.staging_deletions") == 0
