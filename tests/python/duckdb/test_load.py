"""`make load` on DuckDB: incremental by file, bookkeeping that agrees with the data, and
arguments that stay data. Bad lines and the contract: test_load_rejects.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from support.bookkeeping import assert_bookkeeping_agrees, latest_audit, rejects, staging_checksum
from support.datasets import count_lines, log_files
from support.project import BIN, PROJECT_DIR

from sparkify import generate

# Incremental by file


def test_loading_twice_reads_nothing_the_second_time(warehouse, real_sample):
    warehouse.load(real_sample)
    first = {table: staging_checksum(warehouse, table) for table in ("staging_events", "staging_songs")}
    result = warehouse.load(real_sample)

    assert {table: staging_checksum(warehouse, table) for table in first} == first
    assert first["staging_events"][0][0] == 8056
    assert first["staging_songs"][0][0] == 71
    assert "0 new or changed files of 30, 0 rows loaded, 0 rejected" in result.stdout
    assert latest_audit(warehouse) == [
        ("staging_events", 0, 0, 0, "loaded", None),
        ("staging_songs", 0, 0, 0, "loaded", None),
    ]
    assert warehouse.scalar("select count(*) from raw.load_rejects") == 0
    assert warehouse.scalar("select count(*) from raw.loaded_files") == 30 + 71
    assert_bookkeeping_agrees(warehouse)


def test_a_new_day_is_read_alone_and_a_changed_file_replaces_its_rows(warehouse, small_dataset, tmp_path):
    later = tmp_path / "later"
    generate.generate(later, users=10, days=4, songs=5, seed=5)
    warehouse.load(small_dataset)
    new_day = log_files(later)[-1]
    target = small_dataset / new_day.relative_to(later)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(new_day, target)

    warehouse.load(small_dataset)
    assert latest_audit(warehouse)[0][:3] == ("staging_events", 1, count_lines([new_day]))

    changed = log_files(small_dataset)[0]
    kept_lines = changed.read_text().splitlines()[:5]
    changed.write_text("\n".join(kept_lines))
    warehouse.load(small_dataset)

    assert latest_audit(warehouse)[0][:3] == ("staging_events", 1, 5)
    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))
    source_file = changed.relative_to(small_dataset)
    assert warehouse.scalar(f"select count(*) from raw.staging_events where source_file = '{source_file}'") == 5
    assert_bookkeeping_agrees(warehouse)


def test_only_rows_that_leave_staging_are_recorded_as_deleted(warehouse, small_dataset):
    """A file read again unchanged (a new modification time) takes no row away; a full reload
    takes every earlier row away, as far as the marts can tell."""
    warehouse.load(small_dataset)
    later = time.time() + 10
    os.utime(log_files(small_dataset)[0], (later, later))
    touched = warehouse.load(small_dataset)
    events = count_lines(log_files(small_dataset))

    warehouse.load(small_dataset, full_refresh=True)

    assert "1 new or changed files of 3" in touched.stdout
    assert warehouse.query("select source_table, rows_deleted from raw.staging_deletions order by 1") == [
        ("staging_events", events),
        ("staging_songs", 5),
    ]


def test_a_file_gone_from_the_location_keeps_its_rows_and_is_reported(warehouse, small_dataset):
    first, second = log_files(small_dataset)[:2]
    first.write_text(first.read_text() + "not json at all\n")
    warehouse.load(small_dataset, max_rejects=1)
    before = staging_checksum(warehouse, "staging_events"), rejects(warehouse)
    first.unlink()
    second.unlink()

    result = warehouse.load(small_dataset)

    assert "0 new or changed files of 1, 0 rows loaded, 0 rejected" in result.stdout
    note = "2 loaded files gone from the location, their rows kept (FULL_REFRESH=1 drops them)"
    assert f"; {note}" in result.stdout
    assert latest_audit(warehouse)[0] == ("staging_events", 0, 0, 0, "loaded", note)
    assert (staging_checksum(warehouse, "staging_events"), rejects(warehouse)) == before
    assert len(before[1]) == 1
    assert_bookkeeping_agrees(warehouse)

    warehouse.load(small_dataset, full_refresh=True)

    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))
    assert rejects(warehouse) == []
    assert_bookkeeping_agrees(warehouse)


def test_full_refresh_reloads_every_file(warehouse, small_dataset):
    warehouse.load(small_dataset)
    before = staging_checksum(warehouse, "staging_events")
    warehouse.load(small_dataset, full_refresh=True)

    assert latest_audit(warehouse)[0][:2] == ("staging_events", 3)
    assert staging_checksum(warehouse, "staging_events") == before
    assert_bookkeeping_agrees(warehouse)


def test_make_takes_full_refresh_as_1_or_0(warehouse, small_dataset):
    warehouse.make("load", f"LOCATION={small_dataset}")

    again = warehouse.make("load", f"LOCATION={small_dataset}", "FULL_REFRESH=0")
    assert "0 new or changed files of 3" in again.stdout
    full = warehouse.make("load", f"LOCATION={small_dataset}", "FULL_REFRESH=1")
    assert "3 new or changed files of 3" in full.stdout
    assert warehouse.scalar("select count(*) from raw.load_audit") == 3 * 2


# Arguments are data


def test_a_location_is_data_never_sql(warehouse, small_dataset, tmp_path):
    hostile = tmp_path / "x'); create table raw.injected as select 42 as x; --"
    shutil.copytree(small_dataset, hostile)

    warehouse.load(hostile)

    assert warehouse.scalar("select count(*) from information_schema.tables where table_name = 'injected'") == 0
    assert warehouse.query("select distinct location from raw.load_audit") == [(str(hostile),)]
    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(hostile))


def test_make_load_takes_a_path_with_a_quote_and_a_space(warehouse, small_dataset, tmp_path):
    odd = tmp_path / "it's here"
    shutil.copytree(small_dataset, odd)

    warehouse.make("load", f"LOCATION={odd}")

    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(odd))
    assert warehouse.query("select distinct location from raw.load_audit") == [(str(odd),)]


def test_file_names_are_data_each_read_once_as_itself(warehouse, small_dataset):
    """DuckDB's readers take glob patterns; a name with one of their characters, or with a
    comma, a quote and a space, is still one file, read once, in the ledger by its name."""
    day = log_files(small_dataset)[0]
    names = ["g1.json", "g[1].json", "g*.json", "g?.json", "g{1}.json", "g\\1.json", 'day one, "first".json']
    for index, name in enumerate(names):
        (day.parent / name).write_text("\n".join(day.read_text().splitlines()[index : index + 3]) + "\n")
    song = next(small_dataset.glob("song_data/**/*.json"))
    shutil.copy(song, song.with_name(song.stem + "[1].json"))

    warehouse.make("load", f"LOCATION={small_dataset}")

    for name in names:
        source_file = f"{day.parent.relative_to(small_dataset)}/{name}"
        rows = warehouse.query(
            f"select count(*) from raw.staging_events where source_file = '{source_file.replace(chr(39), chr(39) * 2)}'"
        )
        assert rows == [(3,)], name
    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))
    assert warehouse.scalar("select count(*) from raw.staging_songs") == 6
    assert warehouse.scalar("select count(distinct source_file) from raw.staging_songs") == 6
    assert_bookkeeping_agrees(warehouse)
    # The ledger matches on name, size and version: nothing new means all three agree.
    warehouse.load(small_dataset)
    assert [row[:3] for row in latest_audit(warehouse)] == [("staging_events", 0, 0), ("staging_songs", 0, 0)]


def test_the_load_operation_alone_says_to_run_make_load(warehouse, small_dataset):
    result = warehouse.dbt(
        "run-operation", "load_raw", "--args", json.dumps({"location": str(small_dataset)}), check=False
    )

    assert result.returncode != 0
    assert "load_raw loads the files that `make load` plans: run `make load`" in result.stdout


# Bookkeeping that cannot disagree with the data


@pytest.mark.parametrize(("module", "status"), [("sparkify.load", 2), ("sparkify.pipeline", 1)])
def test_a_locked_warehouse_is_one_clear_line(warehouse, small_dataset, module, status):
    warehouse.load(small_dataset)
    with duckdb.connect(str(warehouse.path)):
        result = warehouse.run("python", "-m", module, "--location", str(small_dataset))

    assert result.returncode == status
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: the warehouse {warehouse.env['SPARKIFY_DUCKDB_PATH']} is in use by ")
    assert f"(PID {os.getpid()})" in line


def test_a_load_killed_midway_leaves_no_half_written_bookkeeping(warehouse, small_dataset):
    warehouse.load(small_dataset)
    before = staging_checksum(warehouse, "staging_events")
    extra = small_dataset / "log_data/2018/12/2018-12-01-events.json"
    extra.parent.mkdir(parents=True)
    shutil.copy(log_files(small_dataset)[0], extra)

    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "sparkify.load", "--location", str(small_dataset)],
        cwd=PROJECT_DIR, env=warehouse.env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    killed = False
    for line in process.stdout:
        if "staging_events: read batch" in line:
            process.send_signal(signal.SIGKILL)
            killed = True
            break
    process.wait()

    assert killed

    assert warehouse.scalar("select count(*) from raw.load_audit") == 2
    assert staging_checksum(warehouse, "staging_events") == before
    assert_bookkeeping_agrees(warehouse)
    warehouse.load(small_dataset)
    assert latest_audit(warehouse)[0][:2] == ("staging_events", 1)
    assert_bookkeeping_agrees(warehouse)


def test_a_load_from_another_location_rereads_every_file(warehouse, small_dataset, tmp_path):
    warehouse.load(small_dataset)
    moved = Path(shutil.copytree(small_dataset, tmp_path / "moved"))
    next(moved.glob("song_data/**/*.json")).unlink()

    result = warehouse.load(moved)

    assert "the location changed from" in result.stdout
    assert [row[1] for row in latest_audit(warehouse)] == [3, 4]
    assert warehouse.scalar("select count(*) from raw.staging_songs") == 4
    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(moved))
    assert_bookkeeping_agrees(warehouse)


def test_a_relative_path_and_an_absolute_path_to_one_folder_are_one_location(warehouse, small_dataset):
    """make load's default is relative (data/generated), the Airflow DAG's absolute."""
    warehouse.run("python", "-m", "sparkify.load", "--location", str(small_dataset))

    result = warehouse.run("python", "-m", "sparkify.load", "--location", os.path.relpath(small_dataset, PROJECT_DIR))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "the location changed from" not in result.stdout
    assert [row[1] for row in latest_audit(warehouse)] == [0, 0]
