"""`load_raw` on DuckDB: incremental by file, every bad line kept, bookkeeping that agrees
with the data, and arguments that stay data."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, PROJECT_DIR

from sparkify import generate, load


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    generate.generate(root, users=10, days=3, songs=5, seed=5)
    return root


def log_files(root: Path) -> list[Path]:
    return sorted(root.glob("log_data/**/*.json"))


def count_lines(paths: list[Path]) -> int:
    return sum(len(path.read_text().splitlines()) for path in paths)


def staging_checksum(warehouse, table: str) -> list[tuple]:
    return warehouse.query(
        f"select count(*), md5(string_agg(cast(t as varchar), '' order by t)) "
        f"from (select * exclude (loaded_at) from raw.{table}) as t"
    )


def latest_audit(warehouse) -> list[tuple]:
    return warehouse.query(
        "select source_table, files_loaded, rows_loaded, rows_rejected, status, message from raw.load_audit "
        "where load_id = (select max_by(load_id, finished_at) from raw.load_audit) order by 1"
    )


def rejects(warehouse) -> list[tuple]:
    return warehouse.query(
        "select file_name, line_number, reason, raw_line from raw.load_rejects order by file_name, line_number"
    )


def assert_bookkeeping_agrees(warehouse) -> None:
    """The ledger counts exactly the staging rows of each file it lists, and nothing else."""
    for table in ("staging_events", "staging_songs"):
        staged = warehouse.query(f"select source_file, count(*) from raw.{table} group by 1 order by 1")
        ledger = warehouse.query(
            f"select file_name, rows_loaded from raw.loaded_files where source_table = '{table}' "
            "and rows_loaded > 0 order by 1"
        )
        assert staged == ledger, table


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


def test_make_takes_full_refresh_as_1_or_0_and_refuses_anything_else(warehouse, small_dataset):
    warehouse.make("load", f"LOCATION={small_dataset}")

    again = warehouse.make("load", f"LOCATION={small_dataset}", "FULL_REFRESH=0")
    assert "0 new or changed files of 3" in again.stdout
    full = warehouse.make("load", f"LOCATION={small_dataset}", "FULL_REFRESH=1")
    assert "3 new or changed files of 3" in full.stdout
    with pytest.raises(AssertionError) as refused:
        warehouse.make("load", f"LOCATION={small_dataset}", "FULL_REFRESH=no")
    assert "FULL_REFRESH=no: say 1 to reload and rebuild everything, or 0 (the default)" in str(refused.value)
    assert warehouse.scalar("select count(*) from raw.load_audit") == 3 * 2  # the refused one ran nothing


# Lines that must never be lost in silence


def test_bad_lines_are_kept_with_file_line_and_reason(warehouse, small_dataset):
    log_file = log_files(small_dataset)[0]
    good_lines = log_file.read_text().splitlines()
    bad_lines = ['{"ts": 1541105830796, "sessionId": ', '{"ts": "yesterday", "sessionId": 5}', "[1, 2]"]
    log_file.write_text("\n".join([good_lines[0], *bad_lines, *good_lines[1:]]))
    total_events = count_lines(log_files(small_dataset))

    warehouse.make("load", f"LOCATION={small_dataset}", "MAX_REJECTS=3")

    name = str(log_file.relative_to(small_dataset))
    assert rejects(warehouse) == [
        (name, 2, "not valid JSON", bad_lines[0]),
        (name, 3, "ts: yesterday is not bigint", bad_lines[1]),
        (name, 4, "a JSON array of 2 records, expected one object per line", bad_lines[2]),
    ]
    assert warehouse.scalar("select count(*) from raw.staging_events") == total_events - 3
    assert latest_audit(warehouse)[0][1:5] == (3, total_events - 3, 3, "loaded")
    assert_bookkeeping_agrees(warehouse)


def test_too_many_rejects_fail_the_load_and_keep_the_previous_rows(warehouse, small_dataset):
    warehouse.load(small_dataset)
    loaded = warehouse.scalar("select count(*) from raw.staging_events")
    song_file = next(small_dataset.glob("song_data/**/*.json"))
    song_file.write_text('{"song_id": "SOBROKEN", "year": "nineteen"}')

    result = warehouse.load(small_dataset, check=False)

    assert result.returncode != 0
    assert "Load failed for staging_songs (1 rejected, at most 0 allowed)" in result.stdout
    assert warehouse.scalar("select count(*) from raw.staging_songs") == 5
    assert warehouse.scalar("select count(*) from raw.staging_events") == loaded
    assert warehouse.query("select reason from raw.load_rejects") == [("year: nineteen is not integer",)]
    assert latest_audit(warehouse) == [
        ("staging_events", 0, 0, 0, "loaded", None),
        ("staging_songs", 1, 0, 1, "failed", "1 rejected, at most 0 allowed"),
    ]
    # The failed file is not in the ledger, so the next load tries it again.
    song_file.write_text(json.dumps({"song_id": "SOFIXED", "artist_id": "ARFIXED", "num_songs": 1}))
    warehouse.load(small_dataset)
    assert warehouse.scalar("select count(*) from raw.staging_songs where song_id = 'SOFIXED'") == 1
    assert warehouse.scalar("select count(*) from raw.load_rejects") == 0


def test_a_line_that_is_not_utf8_is_one_reject(warehouse, small_dataset):
    total_events = count_lines(log_files(small_dataset))
    log_file = log_files(small_dataset)[0]
    lines = log_file.read_bytes().split(b"\n")
    lines.insert(1, lines[1].replace(b'"level":"', b'"level":"caf\xe9 '))
    log_file.write_bytes(b"\n".join(lines))

    warehouse.load(small_dataset, max_rejects=1)

    [(name, line, reason, raw)] = rejects(warehouse)
    assert (name, line, reason) == (str(log_file.relative_to(small_dataset)), 2, "not valid UTF-8")
    assert "caf\\xE9" in raw
    assert warehouse.scalar("select count(*) from raw.staging_events") == total_events


def grow_with_a_bad_line(log_file: Path, size: int) -> int:
    """Repeats the file's events until it holds about `size` bytes, with one line that is not
    UTF-8 in the middle; returns the number of good lines."""
    events = log_file.read_bytes().splitlines()
    repeats = size // sum(len(event) + 1 for event in events) + 1
    lines = events * repeats
    lines.insert(len(lines) // 2, b'{"artist": "caf\xe9"}')
    log_file.write_bytes(b"\n".join(lines))
    return len(lines) - 1


def test_large_files_with_a_bad_line_load_within_the_memory_limit(warehouse, small_dataset):
    """The line-by-line read holds about two copies of what it reads within DuckDB's
    memory_limit: files just under its bound (a quarter of the limit) load, their bad lines
    rejected, and so do several, which it reads in chunks."""
    warehouse.env = {**warehouse.env, "SPARKIFY_DUCKDB_MEMORY_LIMIT": "256MB"}  # 244.1 MiB, so 61 MiB files
    files = log_files(small_dataset)
    good_lines = sum(grow_with_a_bad_line(path, size * 2**20) for path, size in zip(files, (5, 58, 58), strict=True))

    warehouse.load(small_dataset, max_rejects=3)

    expected = [(str(path.relative_to(small_dataset)), "not valid UTF-8") for path in files]
    assert [(name, reason) for name, _, reason, _ in rejects(warehouse)] == expected
    assert warehouse.scalar("select count(*) from raw.staging_events") == good_lines


def test_a_file_too_large_to_read_line_by_line_fails_its_source_in_one_line(warehouse, small_dataset):
    warehouse.env = {**warehouse.env, "SPARKIFY_DUCKDB_MEMORY_LIMIT": "256MB"}
    log_file = log_files(small_dataset)[0]
    grow_with_a_bad_line(log_file, 70 * 2**20)
    name = str(log_file.relative_to(small_dataset))

    result = warehouse.load(small_dataset, max_rejects=1, check=False)

    message = (
        f"{name} (70 MiB) has bad lines, and finding them reads a file whole, which fits in a quarter of "
        "DuckDB's memory_limit (244.1 MiB) at most: split the file, or raise memory_limit "
        "(SPARKIFY_DUCKDB_MEMORY_LIMIT in the example profile)"
    )
    assert result.returncode != 0
    assert f"Load failed for staging_events ({message})" in result.stdout
    assert "Out of Memory" not in result.stdout + result.stderr
    assert latest_audit(warehouse) == [
        ("staging_events", 3, 0, 0, "failed", message),
        ("staging_songs", 5, 5, 0, "loaded", None),
    ]
    # Nothing is lost: no event row, no ledger row, so the next load reads every log file again.
    assert warehouse.scalar("select count(*) from raw.staging_events") == 0
    assert warehouse.scalar("select count(*) from raw.loaded_files where source_table = 'staging_events'") == 0


def test_a_byte_order_mark_is_ignored(warehouse, small_dataset):
    log_file = log_files(small_dataset)[0]
    log_file.write_bytes(b"\xef\xbb\xbf" + log_file.read_bytes())

    warehouse.load(small_dataset)

    assert rejects(warehouse) == []
    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))


def test_a_json_array_or_a_pretty_printed_file_is_rejected_as_such(warehouse, small_dataset):
    records = [json.loads(line) for line in log_files(small_dataset)[0].read_text().splitlines()]
    (small_dataset / "log_data/array.json").write_text(json.dumps(records))
    pretty = json.dumps(records[:3], indent=2)
    (small_dataset / "log_data/pretty.json").write_text(pretty)
    pretty_event = json.dumps(records[0], indent=2)
    (small_dataset / "log_data/pretty_event.json").write_text(pretty_event)

    warehouse.load(small_dataset, max_rejects=3)

    assert [(name, line, reason) for name, line, reason, _ in rejects(warehouse)] == [
        ("log_data/array.json", 1, f"a JSON array of {len(records):,} records, expected one object per line"),
        (
            "log_data/pretty.json",
            1,
            f"a pretty-printed JSON array of 3 records over {len(pretty.splitlines())} lines, "
            "expected one object per line",
        ),
        (
            "log_data/pretty_event.json",
            1,
            f"a pretty-printed JSON document over {len(pretty_event.splitlines())} lines, expected one object per line",
        ),
    ]


def test_a_value_longer_than_its_redshift_column_is_a_reject(warehouse, small_dataset):
    log_file = log_files(small_dataset)[0]
    lines = log_file.read_text().splitlines()
    event = json.loads(lines[0])
    event["userAgent"] = "M" * 70_000
    lines[0] = json.dumps(event)
    log_file.write_text("\n".join(lines))

    warehouse.load(small_dataset, max_rejects=1)

    assert [(line, reason) for _, line, reason, _ in rejects(warehouse)] == [
        (1, "userAgent: 70000 bytes, longer than varchar(1024)")
    ]


def test_files_the_load_does_not_read_are_named_and_recorded(warehouse, small_dataset, tmp_path):
    (small_dataset / "log_data/2018/11/2018-11-04-events.json.gz").write_bytes(b"\x1f\x8b")
    elsewhere = tmp_path / "elsewhere/2019"
    generate.generate(tmp_path / "other", users=3, days=1, songs=1, start=generate.dt.date(2019, 1, 1), seed=3)
    shutil.copytree(tmp_path / "other/log_data/2019", elsewhere)
    (small_dataset / "log_data/2019").symlink_to(elsewhere, target_is_directory=True)

    result = warehouse.load(small_dataset)

    assert "1 files not read (log_data/2018/11/2018-11-04-events.json.gz)" in result.stdout
    assert warehouse.query("select file_name, reason from raw.load_rejects") == [
        ("log_data/2018/11/2018-11-04-events.json.gz", "not read: only .json files are loaded")
    ]
    linked = warehouse.scalar("select count(*) from raw.staging_events where source_file like 'log_data/2019/%'")
    assert linked == count_lines(log_files(tmp_path / "other")) > 0


def test_the_listing_reads_a_folder_reached_twice_once(small_dataset):
    # A second link to a folder, and a link back up to its ancestor, add no file twice and
    # never loop.
    logs = small_dataset / "log_data"
    (logs / "again").symlink_to(logs / "2018", target_is_directory=True)
    (logs / "2018/11/loop").symlink_to(logs, target_is_directory=True)
    out = io.StringIO()

    load.write_listing(str(small_dataset), out)

    listed = [Path(row["file_name"]).name for row in csv.DictReader(io.StringIO(out.getvalue()))]
    assert sorted(listed) == sorted(path.name for path in small_dataset.glob("*_data/**/*.json"))


@pytest.mark.parametrize("module", ["sparkify.load", "sparkify.pipeline"])
def test_a_file_that_cannot_be_listed_stops_the_load_in_one_line(warehouse, small_dataset, module):
    gone = small_dataset / "log_data/gone.json"
    gone.symlink_to(small_dataset / "nowhere.json")

    result = warehouse.run("python", "-m", module, "--location", str(small_dataset))

    problem = f"cannot list {small_dataset}: [Errno 2] No such file or directory: '{gone}'"
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: {problem}"]
    assert [(row[4], row[5]) for row in latest_audit(warehouse)] == [("failed", problem)] * 2
    assert warehouse.scalar("select count(*) from raw.staging_events") == 0


# Arguments are data


def test_a_location_is_data_never_sql(warehouse, small_dataset):
    warehouse.load(small_dataset)
    hostile = "/x'); create table raw.injected as select 42 as x; --"

    result = warehouse.load(hostile, check=False)

    assert result.returncode != 0
    assert warehouse.scalar("select count(*) from information_schema.tables where table_name = 'injected'") == 0
    assert warehouse.query("select distinct location from raw.load_audit where status = 'failed'") == [(hostile,)]


def test_make_load_takes_a_path_with_a_quote_and_a_space(warehouse, small_dataset, tmp_path):
    odd = tmp_path / "it's here"
    shutil.copytree(small_dataset, odd)

    warehouse.make("load", f"LOCATION={odd}")

    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(odd))
    assert warehouse.query("select distinct location from raw.load_audit") == [(str(odd),)]


def test_the_listing_of_make_load_and_the_glob_of_the_macro_agree(warehouse, small_dataset):
    # make load lists a local folder in Python and hands the macro a CSV; dbt run-operation
    # alone lists with DuckDB's glob, which must find every file already loaded, a name
    # with a comma, a quote and a space included.
    first = log_files(small_dataset)[0]
    first.rename(first.with_name('day one, "first".json'))

    warehouse.make("load", f"LOCATION={small_dataset}")
    loaded = [name for (name,) in warehouse.query("select file_name from raw.loaded_files")]
    assert 'log_data/2018/11/day one, "first".json' in loaded
    assert warehouse.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))

    # The ledger matches on name, size and version: nothing new means all three agree.
    warehouse.load(small_dataset)
    assert [row[:3] for row in latest_audit(warehouse)] == [("staging_events", 0, 0), ("staging_songs", 0, 0)]


def test_a_location_without_files_fails_clearly_and_is_audited(warehouse, tmp_path):
    (tmp_path / "empty").mkdir()
    result = warehouse.load(tmp_path / "empty", check=False)

    assert result.returncode != 0
    assert f"no files under {tmp_path / 'empty'}/log_data/" in result.stdout
    assert [row[4] for row in latest_audit(warehouse)] == ["failed", "failed"]


@pytest.mark.parametrize(
    ("max_rejects", "message"),
    [(-1, "max_rejects must be 0 or more, got -1"),
     ("many", "max_rejects must be a whole number, 0 or more, got 'many'"),
     (100000, "max_rejects must be below 100000")],
)  # fmt: skip
def test_a_bad_threshold_is_refused_and_audited(warehouse, small_dataset, max_rejects, message):
    result = warehouse.dbt(
        "run-operation", "load_raw", "--args", json.dumps({"location": str(small_dataset), "max_rejects": max_rejects}),
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert message in result.stdout
    audit = latest_audit(warehouse)
    assert [(row[0], row[4]) for row in audit] == [("staging_events", "failed"), ("staging_songs", "failed")]
    assert all(row[5].startswith(message) for row in audit)


def test_make_load_refuses_a_threshold_that_is_not_a_number_and_audits_it(warehouse, small_dataset):
    result = warehouse.run("python", "-m", "sparkify.load", "--location", str(small_dataset), "--max-rejects", "many")

    assert result.returncode == 1
    assert "max_rejects must be a whole number, 0 or more, got 'many'" in result.stdout
    assert [row[4] for row in latest_audit(warehouse)] == ["failed", "failed"]


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
        [str(BIN / "dbt"), "run-operation", "load_raw", "--args", json.dumps({"location": str(small_dataset)})],
        cwd=PROJECT_DIR, env=warehouse.env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in process.stdout:
        if "staging_events: read batch" in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait()

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
