"""`load_raw` on DuckDB: idempotent loads, an audit row per source, and no line lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkify import generate


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    generate.generate(root, users=10, days=2, songs=5, seed=5)
    return root


def staging_checksum(warehouse, table: str) -> list[tuple]:
    return warehouse.query(f"select count(*), md5(string_agg(cast(t as varchar), '' order by t)) from raw.{table} as t")


def test_loading_twice_leaves_the_same_tables(warehouse, real_sample):
    warehouse.load(real_sample)
    first = {table: staging_checksum(warehouse, table) for table in ("staging_events", "staging_songs")}
    result = warehouse.load(real_sample)
    second = {table: staging_checksum(warehouse, table) for table in ("staging_events", "staging_songs")}

    assert first == second
    assert first["staging_events"][0][0] == 8056
    assert first["staging_songs"][0][0] == 71
    assert "Loaded staging_events" in result.stdout and "8,056 rows loaded, 0 rejected" in result.stdout
    audit = warehouse.query(
        "select source_table, files, rows_loaded, rows_rejected, status, count(distinct load_id) "
        "from raw.load_audit group by all order by 1"
    )
    assert audit == [("staging_events", 30, 8056, 0, "loaded", 2), ("staging_songs", 71, 71, 0, "loaded", 2)]
    assert warehouse.scalar("select count(*) from raw.load_rejects") == 0
    assert warehouse.scalar("select count(*) from raw.load_audit where finished_at < started_at") == 0


def test_bad_lines_are_kept_with_file_line_and_reason(warehouse, small_dataset):
    log_file = sorted(small_dataset.glob("log_data/**/*.json"))[0]
    good_lines = log_file.read_text().splitlines()
    bad_lines = ['{"ts": 1541105830796, "sessionId": ', '{"ts": "yesterday", "sessionId": 5}', "[1, 2]"]
    log_file.write_text("\n".join([good_lines[0], *bad_lines, *good_lines[1:]]))
    total_events = sum(len(p.read_text().splitlines()) for p in small_dataset.glob("log_data/**/*.json"))

    warehouse.make("load", f"LOCATION={small_dataset}", "MAX_REJECTS=3")

    rejects = warehouse.query("select file_name, line_number, reason, raw_line from raw.load_rejects order by 2")
    assert [(Path(r[0]).name, r[1], r[3]) for r in rejects] == [
        (log_file.name, 2, bad_lines[0]),
        (log_file.name, 3, bad_lines[1]),
        (log_file.name, 4, bad_lines[2]),
    ]
    assert rejects[0][2] == "not a JSON object"
    assert rejects[1][2] == "ts: yesterday is not bigint"
    assert rejects[2][2] == "not a JSON object"
    assert warehouse.scalar("select count(*) from raw.staging_events") == total_events - 3
    audit = warehouse.query(
        "select rows_loaded, rows_rejected, status from raw.load_audit where source_table = 'staging_events'"
    )
    assert audit == [(total_events - 3, 3, "loaded")]


def test_too_many_rejects_fail_the_load_and_keep_the_previous_rows(warehouse, small_dataset):
    warehouse.load(small_dataset)
    loaded = warehouse.scalar("select count(*) from raw.staging_events")
    song_file = next(small_dataset.glob("song_data/**/*.json"))
    song_file.write_text('{"song_id": "SOBROKEN", "year": "nineteen"}')

    result = warehouse.load(small_dataset, check=False)

    assert result.returncode != 0
    assert "Load failed for staging_songs (1 rejected, at most 0 allowed)" in result.stdout
    assert "load_rejects" in result.stdout
    assert warehouse.scalar("select count(*) from raw.staging_songs") == 5
    assert warehouse.scalar("select count(*) from raw.staging_events") == loaded
    assert warehouse.query("select reason from raw.load_rejects") == [("year: nineteen is not integer",)]
    latest = warehouse.query(
        "select source_table, rows_loaded, rows_rejected, status from raw.load_audit "
        "where load_id = (select max_by(load_id, finished_at) from raw.load_audit) order by 1"
    )
    assert latest == [("staging_events", loaded, 0, "loaded"), ("staging_songs", 0, 1, "failed")]


def test_a_location_without_files_fails_clearly(warehouse, tmp_path):
    (tmp_path / "empty").mkdir()
    result = warehouse.load(tmp_path / "empty", check=False)
    assert result.returncode != 0
    assert "No files match" in result.stdout and "log_data/**/*.json" in result.stdout


def test_a_negative_threshold_is_refused(warehouse, small_dataset):
    result = warehouse.load(small_dataset, max_rejects=-1, check=False)
    assert result.returncode != 0
    assert "max_rejects must be 0 or more" in result.stdout
