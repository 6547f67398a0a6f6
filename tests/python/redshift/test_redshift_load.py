"""The Redshift path, executed: `make load TARGET=redshift` and `dbt build --target redshift`
run dbt-redshift's real adapter against the test double (redshift_double/: PostgreSQL plus
COPY from the S3 emulator), and give what DuckDB gives."""

from __future__ import annotations

import json
from collections import Counter

from support.datasets import most_played_song_files, move
from support.expected import WATERMARKED_TESTS
from support.redshift import MART_KEYS, corrupt_first_log_file, key_digest, load_outcome

from sparkify import generate


def test_the_real_sample_loads_and_builds_on_redshift_as_on_duckdb(
    redshift, redshift_target_path, real_sample, real_sample_build
):
    location = redshift.upload(real_sample, "sample")

    load = redshift.make_load(location)
    build = redshift.dbt("build")

    assert f"Loaded staging_events from {location}: 30 new or changed files of 30, 8,056 rows loaded, 0 rejected" in (
        load.stdout
    )
    assert "Loaded staging_songs" in load.stdout and "71 rows loaded, 0 rejected" in load.stdout
    assert "Completed successfully" in build.stdout and "ERROR=0" in build.stdout
    duckdb, _ = real_sample_build
    marts = {}
    for target, query in (("redshift", redshift.query), ("duckdb", duckdb.query)):
        for mart, key in MART_KEYS.items():
            keys = [row[0] for row in query(f"select {key} from analytics.{mart}")]
            marts.setdefault(mart, {})[target] = (len(keys), key_digest(keys))
    assert {mart: both["redshift"] for mart, both in marts.items()} == {
        mart: both["duckdb"] for mart, both in marts.items()
    }
    assert marts["songplays"]["redshift"][0] == 6820
    # The build's on-run-end hook records the same passed watermarked tests on both targets.
    watermarked = "select test_id from analytics.data_test_watermarks order by test_id"
    assert [row[0] for row in redshift.query(watermarked)] == [row[0] for row in duckdb.query(watermarked)]
    assert len(duckdb.query(watermarked)) == len(WATERMARKED_TESTS)
    # The next run reads the watermarks back: the tests take only the rows loaded since.
    retest = redshift.dbt(
        "test", "--select", "assert_songplays_reconcile_with_nextsong_events", "unique_time_start_time"
    )
    assert retest.stdout.count(" PASS ") == 2, retest.stdout
    compiled = redshift_target_path / "compiled/sparkify/tests/assert_songplays_reconcile_with_nextsong_events.sql"
    assert "loaded_at > cast('" in compiled.read_text()


# What an incremental build can get wrong beyond the keys: a play's song and level, a user's
# level, a session's counts, a user's periods.
MART_ROWS = {
    "songplays": "songplay_id || '|' || coalesce(song_id, '-') || '|' || coalesce(artist_id, '-') || '|' || level",
    "users": "cast(user_id as varchar) || '|' || level",
    "songs": "song_id || '|' || title",
    "artists": "artist_id",
    "time": "start_time",
    "sessions": "cast(session_id as varchar) || '|' || cast(events as varchar) || '|' || cast(plays as varchar)",
    "user_level_periods": "cast(user_id as varchar) || '|' || cast(period_number as varchar) || '|' || level"
    " || '|' || cast(sessions as varchar) || '|' || cast(plays as varchar)",
}


def assert_same_marts(redshift, warehouse) -> None:
    for mart, row in MART_ROWS.items():
        rows = {target: sorted(str(value) for (value,) in query(f"select {row} from analytics.{mart}"))
                for target, query in (("redshift", redshift.query), ("duckdb", warehouse.query))}  # fmt: skip
        assert rows["redshift"] == rows["duckdb"], mart


def test_incremental_builds_give_the_marts_of_duckdb(redshift, warehouse, tmp_path):
    """A day and a song file arrive after the first build; then a played song is renamed and
    a day is sent again with fewer events: the incremental models' SQL, both the merges of what
    is new and the rebuilds after rows left staging, runs on the double and gives what DuckDB
    gives."""
    root, held_back = tmp_path / "raw", tmp_path / "held_back"
    generate.generate(root, users=20, days=3, songs=30, match_rate=0.9, seed=8)
    late = [sorted(root.glob("log_data/**/*.json"))[-1], sorted(root.glob("song_data/**/*.json"))[0]]
    for path in late:
        move(path, root, held_back)

    def build_both() -> None:
        redshift.make_load(redshift.upload(root, "raw"))
        redshift.dbt("build", "--exclude-resource-type", "unit_test")
        result = warehouse.pipeline(root)
        assert result.returncode == 0, result.stdout + result.stderr

    build_both()
    for path in late:
        move(held_back / path.relative_to(root), held_back, root)
    build_both()
    assert_same_marts(redshift, warehouse)
    [(renamed_song, renamed_file)] = most_played_song_files(warehouse, root, 1).items()
    song = json.loads(renamed_file.read_text())
    renamed_file.write_text(json.dumps({**song, "title": "A Title Nobody Played"}))
    resent_day = sorted(root.glob("log_data/**/*.json"))[0]
    resent_day.write_text("\n".join(resent_day.read_text().splitlines()[::2]) + "\n")
    build_both()

    assert_same_marts(redshift, warehouse)
    played = "select count(*) from analytics.songplays where song_id = '{}'"
    assert redshift.scalar(played.format(renamed_song)) == warehouse.scalar(played.format(renamed_song)) == 0
    nextsong_events = (
        "select count(*) from (select distinct userid, sessionid, iteminsession from raw.staging_events"
        " where page = 'NextSong') as plays"
    )
    assert redshift.scalar("select count(*) from analytics.songplays") == redshift.scalar(nextsong_events)
    assert warehouse.scalar("select count(*) from analytics.songplays where song_id is not null") > 50


def assert_the_contract_rejects_alike(bad: list[tuple[str, str | None]], *queries) -> None:
    """Each line refused by the contract's checks has the same reason on both targets."""
    expected = Counter(reason for _, reason in bad if reason)
    for query in queries:
        reasons = [reason for (reason,) in query("select reason from raw.load_rejects")]
        for start, count in expected.items():
            # Redshift reads the array line as a record with no known key: one more of those.
            assert sum(reason.startswith(start) for reason in reasons) >= count, (start, reasons)


def test_bad_lines_are_rejected_alike_on_both_targets_and_the_build_passes(redshift, warehouse, small_dataset):
    """max_rejects accepts as many bad lines as there are, where COPY's MAXERROR would abort
    at the last; every value that passes either load builds; and two deliveries of one event
    in one load, which differ only in level, give both targets the same marts."""
    corrupted, bad = corrupt_first_log_file(small_dataset)
    second_day = sorted(small_dataset.glob("log_data/**/*.json"))[1]
    flipped = (json.loads(line) for line in second_day.read_text().splitlines())
    second_day.with_name("redelivered.json").write_text("\n".join(
        json.dumps({**event, "level": {"free": "paid", "paid": "free"}.get(event["level"], event["level"])})
        for event in flipped) + "\n")  # fmt: skip
    location = redshift.upload(small_dataset, "corrupt")

    on_redshift = load_outcome(redshift.make_load(location, len(bad), False), redshift.query)
    on_duckdb = load_outcome(warehouse.load(small_dataset, len(bad), check=False), warehouse.query)

    assert on_redshift == on_duckdb
    assert on_redshift["succeeded"] and on_redshift["rejects"] == len(bad)
    assert_the_contract_rejects_alike(bad, redshift.query, warehouse.query)
    # Lines that COPY could not parse keep their file and line; the contract's rejects cannot.
    located = redshift.query("select file_name, line_number from raw.load_rejects where file_name is not null")
    assert sorted(located) == [(f"log_data/2018/11/{corrupted}", line) for line in (2, 3, 5)]
    redshift.dbt("build", "--exclude-resource-type", "unit_test")
    warehouse.dbt("build", "--exclude-resource-type", "unit_test")
    assert_same_marts(redshift, warehouse)


def test_a_source_past_the_threshold_fails_recorded_as_on_duckdb(redshift, warehouse, small_dataset):
    """The source is recorded as failed with its rejects and keeps its previous rows, and the
    other source still loads."""
    redshift.make_load(redshift.upload(small_dataset, "data"))
    warehouse.load(small_dataset)
    _, bad = corrupt_first_log_file(small_dataset)
    location = redshift.upload(small_dataset, "data")

    on_redshift = load_outcome(redshift.make_load(location, len(bad) - 1, False), redshift.query)
    on_duckdb = load_outcome(warehouse.load(small_dataset, len(bad) - 1, check=False), warehouse.query)

    assert on_redshift == on_duckdb
    assert not on_redshift["succeeded"]
    failure = f"Load failed for staging_events ({len(bad)} rejected, at most {len(bad) - 1} allowed)."
    assert on_redshift["failure"] == failure
    assert [row[-1] for row in on_redshift["audit"]] == ["failed", "loaded"]
