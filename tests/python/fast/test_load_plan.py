"""What a load reads, decided in Python before dbt starts: the listing, the comparison with
the ledger, the batches and the checks of the arguments. No dbt process: a fast tier."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sparkify import layout, listing, load, plan
from sparkify.ledger import Ledger


def write(root: Path, name: str, text: str = '{"ts": 1}\n') -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def location(tmp_path: Path) -> str:
    for name in ("log_data/2018/11/a.json", "log_data/2018/11/b.json", "song_data/A/B/C/TRA.json"):
        write(tmp_path, name)
    return layout.absolute_location(str(tmp_path))


def ledger_of(files: list[listing.ListedFile], location: str | None = None) -> Ledger:
    ledger = Ledger()
    for listed in files:
        ledger.files.setdefault(listed.source_table, {})[listed.name] = (listed.size, listed.version)
        if location:
            ledger.locations[listed.source_table] = location
    return ledger


def by_source(plans: list[plan.SourcePlan]) -> dict[str, plan.SourcePlan]:
    return {source_plan.source_table: source_plan for source_plan in plans}


def test_files_are_named_relative_to_the_location_in_their_source(location):
    listed = listing.list_location(location)

    assert sorted((f.source_table, f.name) for f in listed) == [
        ("staging_events", "log_data/2018/11/a.json"),
        ("staging_events", "log_data/2018/11/b.json"),
        ("staging_songs", "song_data/A/B/C/TRA.json"),
    ]
    assert all(f.path == f"{location}/{f.name}" for f in listed)


def test_a_first_load_reads_every_file_and_reloads_each_source(location):
    plans = by_source(plan.plan_sources(location, listing.list_location(location), Ledger(), False, False))

    assert [f.name for f in plans["staging_events"].read] == ["log_data/2018/11/a.json", "log_data/2018/11/b.json"]
    assert plans["staging_events"].reload and plans["staging_songs"].reload


def test_only_new_or_changed_files_are_read_against_the_ledger(location):
    before = listing.list_location(location)
    ledger = ledger_of(before, location)
    write(Path(location), "log_data/2018/11/c.json")
    changed = Path(location, "log_data/2018/11/a.json")
    changed.write_text('{"ts": 22}\n')

    plans = by_source(plan.plan_sources(location, listing.list_location(location), ledger, False, False))

    assert [f.name for f in plans["staging_events"].read] == ["log_data/2018/11/a.json", "log_data/2018/11/c.json"]
    assert not plans["staging_events"].reload
    assert plans["staging_songs"].read == []


def test_a_rewrite_of_the_same_size_within_the_same_second_is_a_change(location):
    """The ledger keeps the modification time in nanoseconds: whole seconds missed this."""
    path = Path(location, "log_data/2018/11/a.json")
    first = os.stat(path).st_mtime_ns
    ledger = ledger_of(listing.list_location(location), location)
    path.write_text('{"ts": 2}\n')  # the same size
    second = first - first % 10**9 + (first % 10**9 + 1000) % 10**9  # the same second, a microsecond apart
    os.utime(path, ns=(second, second))

    plans = by_source(plan.plan_sources(location, listing.list_location(location), ledger, False, False))

    assert [f.name for f in plans["staging_events"].read] == ["log_data/2018/11/a.json"]


def test_on_redshift_a_changed_file_reloads_its_source(location):
    ledger = ledger_of(listing.list_location(location), location)
    Path(location, "log_data/2018/11/a.json").write_text('{"ts": 333}\n')

    plans = by_source(plan.plan_sources(location, listing.list_location(location), ledger, False, True))

    assert plans["staging_events"].reload
    assert len(plans["staging_events"].read) == 2
    assert not plans["staging_songs"].reload and plans["staging_songs"].read == []


def test_files_gone_from_the_location_are_counted_and_a_moved_location_reloads(location, tmp_path):
    ledger = ledger_of(listing.list_location(location), location)
    Path(location, "log_data/2018/11/b.json").unlink()

    kept = by_source(plan.plan_sources(location, listing.list_location(location), ledger, False, False))
    ledger.locations = {source_table: "/somewhere/else" for source_table in layout.SOURCE_FOLDERS}
    moved = by_source(plan.plan_sources(location, listing.list_location(location), ledger, False, False))

    assert kept["staging_events"].gone == 1 and not kept["staging_events"].reload
    assert moved["staging_events"].moved_from == "/somewhere/else" and moved["staging_events"].reload
    assert moved["staging_events"].gone == 0


def test_files_that_are_not_json_are_named_not_read(location):
    write(Path(location), "log_data/2018/11/c.json.gz")

    events = by_source(plan.plan_sources(location, listing.list_location(location), Ledger(), False, False))[
        "staging_events"
    ]

    assert events.skipped == ["log_data/2018/11/c.json.gz"]
    assert events.found == 3 and len(events.read) == 2


def test_batches_hold_at_most_a_gibibyte_or_ten_thousand_files():
    def files(count: int, size: int) -> list[listing.ListedFile]:
        return [
            listing.ListedFile("staging_events", f"log_data/{i:06}.json", f"/x/{i}", size, "1") for i in range(count)
        ]

    assert [len(batch) for batch in plan.SourcePlan("staging_events", 0, files(20_001, 1)).batches()] == [
        10_000, 10_000, 1,
    ]  # fmt: skip
    assert [len(batch) for batch in plan.SourcePlan("staging_events", 0, files(5, 2**29)).batches()] == [2, 2, 1]


def test_the_listing_follows_links_and_reads_a_folder_reached_twice_once(location):
    logs = Path(location, "log_data")
    (logs / "again").symlink_to(logs / "2018", target_is_directory=True)
    (logs / "2018/11/loop").symlink_to(logs, target_is_directory=True)

    names = sorted(Path(f.name).name for f in listing.list_location(location))

    assert names == ["TRA.json", "a.json", "b.json"]


def test_a_broken_link_is_a_listing_error(location):
    Path(location, "log_data/gone.json").symlink_to(Path(location, "nowhere.json"))

    with pytest.raises(listing.ListingError, match="cannot list .*No such file or directory"):
        listing.list_location(location)


@pytest.mark.parametrize("name", ["g[1].json", "g*.json", "g?.json", "g{1}.json", "g\\1.json", "g].json"])
def test_a_glob_escaped_path_matches_only_itself(tmp_path, name):
    """DuckDB's readers take patterns: each read path is escaped so that it names one file."""
    import duckdb

    for other in ("g1.json", "g[1].json", "g*.json", "g?.json", "g{1}.json", "g\\1.json", "g].json"):
        write(tmp_path, other, json.dumps({"name": other}) + "\n")
    escaped = plan.glob_escaped(str(tmp_path / name))

    rows = duckdb.sql(f"select json ->> 'name' from read_ndjson_objects('{escaped}')").fetchall()

    assert rows == [(name,)]


def test_plan_rows_carry_what_the_load_macro_reads(location):
    write(Path(location), "log_data/2018/11/notes.txt")
    plans = plan.plan_sources(location, listing.list_location(location), Ledger(), False, False)

    rows = [json.loads(line) for line in plan.plan_rows(plans, escape_paths=True)]

    assert {row["file_name"]: (row["batch_number"], row["read_path"] is None) for row in rows} == {
        "log_data/2018/11/a.json": (1, False),
        "log_data/2018/11/b.json": (1, False),
        "log_data/2018/11/notes.txt": (None, True),
        "song_data/A/B/C/TRA.json": (1, False),
    }


@pytest.mark.parametrize("value", ["-1", "many", "1.5", "100000", " 7x"])
def test_a_threshold_that_is_not_a_whole_number_below_redshifts_limit_is_refused(value):
    with pytest.raises(load.CannotStart, match=f"MAX_REJECTS must be a whole number from 0 to 99,999, got '{value}'"):
        load.threshold(value)


def test_a_threshold_defaults_to_none_allowed():
    assert load.threshold(None) == load.threshold("") == 0
    assert load.threshold(" 12 ") == 12


def request(location: str, **overrides) -> load.Request:
    return load.Request(location, 0, False, overrides.get("target"))


def test_a_location_that_is_not_a_folder_is_refused_before_dbt(tmp_path):
    with pytest.raises(load.CannotStart, match=f"^{tmp_path}/nowhere is not a folder: pass LOCATION="):
        load.check_before_dbt(request(f"{tmp_path}/nowhere"))


def test_a_location_without_a_source_is_refused_before_dbt(location):
    for path in Path(location, "song_data").rglob("*.json"):
        path.unlink()

    with pytest.raises(load.CannotStart, match=f"^no .json files under {location}/song_data/: the location must"):
        load.check_before_dbt(request(location))


def test_redshift_loads_only_from_s3(location):
    with pytest.raises(load.CannotStart, match="Redshift loads from S3: LOCATION must be an s3:// prefix"):
        load.check_before_dbt(request(location, target="redshift"))


def test_an_audit_message_is_cut_within_its_bytes_not_its_characters():
    text = "é" * 3000  # 6,000 bytes

    cut = load.within_bytes(text)

    assert len(cut.encode()) <= load.MESSAGE_BYTES and cut == "é" * 2000
