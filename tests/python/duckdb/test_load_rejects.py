"""`make load` on DuckDB: every line the build cannot hold is one reject, with its file, line
and reason, and every other line loads (the load's contract, macros/load/raw_tables.sql)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from support.bookkeeping import assert_bookkeeping_agrees, latest_audit, rejects, staging_checksum
from support.datasets import count_lines, log_files

from sparkify import generate

# Lines that must never be lost in silence


def test_bad_lines_are_kept_with_file_line_and_reason(warehouse, small_dataset):
    log_file = log_files(small_dataset)[0]
    good_lines = log_file.read_text().splitlines()
    yesterday = json.dumps({**json.loads(good_lines[0]), "ts": "yesterday"})
    bad_lines = ['{"ts": 1541105830796, "sessionId": ', yesterday, "[1, 2]"]
    log_file.write_text("\n".join([good_lines[0], *bad_lines, *good_lines[1:]]))
    total_events = count_lines(log_files(small_dataset))

    warehouse.make("load", f"LOCATION={small_dataset}", "MAX_REJECTS=3")

    name = str(log_file.relative_to(small_dataset))
    assert rejects(warehouse) == [
        (name, 2, "not valid JSON", bad_lines[0]),
        (name, 3, "ts: 'yesterday' is not a whole number", bad_lines[1]),
        (name, 4, "a JSON array of 2 records, expected one object per line", bad_lines[2]),
    ]
    assert warehouse.scalar("select count(*) from raw.staging_events") == total_events - 3
    assert latest_audit(warehouse)[0][1:5] == (3, total_events - 3, 3, "loaded")
    assert_bookkeeping_agrees(warehouse)


def test_too_many_rejects_fail_the_load_and_keep_the_previous_rows(warehouse, small_dataset):
    warehouse.load(small_dataset)
    loaded = warehouse.scalar("select count(*) from raw.staging_events")
    song_file = next(small_dataset.glob("song_data/**/*.json"))
    song_file.write_text('{"song_id": "SOBROKEN", "artist_id": "ARBROKEN", "year": "nineteen"}')

    result = warehouse.load(small_dataset, check=False)

    assert result.returncode != 0
    assert "Load failed for staging_songs (1 rejected, at most 0 allowed)" in result.stderr
    assert warehouse.scalar("select count(*) from raw.staging_songs") == 5
    assert warehouse.scalar("select count(*) from raw.staging_events") == loaded
    assert warehouse.query("select reason from raw.load_rejects") == [("year: 'nineteen' is not a whole number",)]
    assert latest_audit(warehouse) == [
        ("staging_events", 0, 0, 0, "loaded", None),
        ("staging_songs", 1, 0, 1, "failed", "1 rejected, at most 0 allowed"),
    ]
    # The failed file is not in the ledger, so the next load tries it again.
    song_file.write_text(json.dumps({"song_id": "SOFIXED", "artist_id": "ARFIXED", "num_songs": 1}))
    warehouse.load(small_dataset)
    assert warehouse.scalar("select count(*) from raw.staging_songs where song_id = 'SOFIXED'") == 1
    assert warehouse.scalar("select count(*) from raw.load_rejects") == 0


# The load's contract (macros/load/raw_tables.sql): a value that the build could not hold is
# one reject, naming the key and the rule, and every other line loads.
def contract_breaking_lines(event: dict) -> list[tuple[str, str]]:
    """Lines made from one real event, each with one value the build cannot take, and the
    start of the reason each is rejected for."""

    def changed(**values) -> str:
        return json.dumps({**event, **values})

    snake_case = {re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key): value for key, value in event.items()}
    without_level = {key: value for key, value in event.items() if key != "level"}
    return [
        (changed(userId="guest-7f3a"), "userId: 'guest-7f3a' is not a whole number"),
        (changed(ts=1543795200005000000), "ts: '1543795200005000000' is outside 946684800000 to "),
        (changed(ts=1543795200005000), "ts: '1543795200005000' is outside 946684800000 to "),
        (changed(ts=10413792000000), "ts: '10413792000000' is outside 946684800000 to "),
        (changed(ts=946684799999), "ts: '946684799999' is outside 946684800000 to "),
        (json.dumps(snake_case), "itemInSession: missing, and required"),
        ("{}", "no known key"),
        ('{"type": "heartbeat", "at": 1543795200005}', "no known key"),
        (changed(itemInSession=3.5), "itemInSession: '3.5' is not a whole number"),
        (changed(sessionId=990501.5), "sessionId: '990501.5' is not a whole number"),
        (changed(status=200.5), "status: '200.5' is not a whole number"),
        (changed(sessionId=3_000_000_000), "sessionId: '3000000000' is outside -2147483648 to 2147483647"),
        (changed(length=1.0).replace("1.0", "NaN"), "length: 'NaN' is not a number"),
        (changed(length=1.0).replace("1.0", "Infinity"), "length: '"),
        (changed(registration=-5.0), "registration: '-5.0' is outside 0 to "),
        (changed(level="gold"), "level: 'gold' is not one of free, paid"),
        (changed(gender="X"), "gender: 'X' is not one of F, M"),
        (json.dumps(without_level), "level: missing, and required with userId"),
        (changed(page=" "), "page: missing, and required"),
    ]


def test_values_the_build_cannot_hold_are_rejected_and_the_build_passes(warehouse, small_dataset):
    log_file = log_files(small_dataset)[0]
    lines = log_file.read_text().splitlines()
    event = next(json.loads(line) for line in lines if json.loads(line)["userId"])
    breaking = contract_breaking_lines(event)
    # Lines of white space only are no lines, in this file and in a clean one.
    blank = ["\t", "\r", "   ", " \t\r"]
    log_file.write_text("\n".join([lines[0], *blank, *(line for line, _ in breaking), *lines[1:]]) + "\n")
    clean_file = log_files(small_dataset)[1]
    clean_file.write_text("\n".join(blank) + "\n" + clean_file.read_text())
    total_events = count_lines(log_files(small_dataset)) - 2 * len(blank)

    warehouse.load(small_dataset, max_rejects=len(breaking))

    found = rejects(warehouse)
    name = str(log_file.relative_to(small_dataset))
    assert [(file_name, line) for file_name, line, _, _ in found] == [
        (name, 2 + len(blank) + index) for index in range(len(breaking))
    ]
    for (line, reason), (_, _, found_reason, raw_line) in zip(breaking, found, strict=True):
        assert found_reason.startswith(reason), (found_reason, reason)
        assert raw_line == line
    assert warehouse.scalar("select count(*) from raw.staging_events") == total_events - len(breaking)
    assert latest_audit(warehouse)[0][1:5] == (3, total_events - len(breaking), len(breaking), "loaded")
    assert_bookkeeping_agrees(warehouse)
    build = warehouse.dbt("build", check=False)
    assert build.returncode == 0, build.stdout


def test_a_song_the_build_cannot_hold_is_rejected(warehouse, small_dataset):
    song_files = sorted(small_dataset.glob("song_data/**/*.json"))
    song = json.loads(song_files[0].read_text())
    breaking = [
        ({**song, "year": 2999}, "year: '2999' is outside 1900 to "),
        ({**song, "year": 1850}, "year: '1850' is outside 1900 to "),
        ({**song, "duration": 0}, "duration: '0' is not above 0"),
        ({**song, "artist_latitude": 91.5}, "artist_latitude: '91.5' is outside -90 to 90"),
        ({**song, "artist_longitude": -200}, "artist_longitude: '-200' is outside -180 to 180"),
        ({**song, "song_id": ""}, "song_id: missing, and required"),
    ]
    for path, (record, _) in zip(song_files[1:], breaking, strict=False):
        path.write_text(json.dumps(record))
    for index, (record, _) in enumerate(breaking[len(song_files) - 1 :]):
        (song_files[0].parent / f"TRBROKEN{index}.json").write_text(json.dumps(record))
    song_files[0].write_text(json.dumps({**song, "year": 0}))  # 0 means unknown

    warehouse.load(small_dataset, max_rejects=len(breaking))

    found = sorted(reason for _, _, reason, _ in rejects(warehouse))
    expected = sorted(reason for _, reason in breaking)
    assert len(found) == len(expected)
    assert all(reason.startswith(prefix) for reason, prefix in zip(found, expected, strict=True)), found
    assert warehouse.scalar("select count(*) from raw.staging_songs") == 1
    build = warehouse.dbt("build", check=False)
    assert build.returncode == 0, build.stdout


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
    assert f"Load failed for staging_events ({message})" in result.stderr
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


@pytest.mark.parametrize("module", ["sparkify.load", "sparkify.pipeline"])
def test_a_file_that_cannot_be_listed_stops_the_load_in_one_line_before_dbt(warehouse, small_dataset, module):
    warehouse.load(small_dataset)
    before = staging_checksum(warehouse, "staging_events"), latest_audit(warehouse)
    gone = small_dataset / "log_data/gone.json"
    gone.symlink_to(small_dataset / "nowhere.json")

    result = warehouse.run("python", "-m", module, "--location", str(small_dataset))

    problem = f"cannot list {small_dataset}: [Errno 2] No such file or directory: '{gone}'"
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: {problem}"]
    assert "Running with dbt" not in result.stdout
    assert (staging_checksum(warehouse, "staging_events"), latest_audit(warehouse)) == before
