"""Source freshness, measured on the data: the newest event moved to a chosen age, then
`dbt source freshness`, read back from the sources.json it writes."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The cases: a day's data of an hour ago is fresh, two days old warns, eight fail.
STATUS_AT_AGE = {timedelta(hours=1): "pass", timedelta(days=2): "warn", timedelta(days=8): "error"}


def make_newest_event_this_old(age: timedelta) -> str:
    """SQL (the same on both targets) that shifts every event so that the newest is `age` old."""
    newest_ms = int((datetime.now(UTC) - age).timestamp() * 1000)
    return f"update raw.staging_events set ts = ts + ({newest_ms} - (select max(ts) from raw.staging_events))"


def freshness_of_events(result: subprocess.CompletedProcess, target_path: Path) -> str:
    """The status dbt gave staging_events, after checking that the exit code agrees with it."""
    output = result.stdout + result.stderr
    results = json.loads((target_path / "sources.json").read_text())["results"]
    events = [source for source in results if source["unique_id"].endswith(".staging_events")]
    assert len(events) == 1, output
    assert (result.returncode != 0) == (events[0]["status"] == "error"), output
    return events[0]["status"]
