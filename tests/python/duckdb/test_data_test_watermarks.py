"""Watermarked data tests read only the rows loaded since they last passed, and a test that
failed keeps failing on the next builds (macros/test_watermarks.sql)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
from support.expected import WATERMARKED_TESTS

from sparkify import generate


def built_days(tmp_path: Path, days: int) -> tuple[Path, list[Path]]:
    """A generated location with its last day held back (returned as [original, parked])."""
    root = tmp_path / "raw"
    generate.generate(root, users=20, days=days, songs=30, match_rate=0.9, seed=5)
    last_day = sorted(root.glob("log_data/**/*.json"))[-1]
    parked = tmp_path / last_day.name
    shutil.move(last_day, parked)
    return root, [last_day, parked]


def test_a_passing_build_records_how_far_each_watermarked_test_has_read(warehouse, tmp_path):
    root, _ = built_days(tmp_path, days=2)
    assert warehouse.pipeline(root).returncode == 0

    recorded = warehouse.query("select test_id, tested_through from analytics.data_test_watermarks")
    # test.sparkify.<name>[.<hash of a generic test's arguments>]
    assert {test_id.split(".")[2] for test_id, _ in recorded} == WATERMARKED_TESTS
    newest_load = warehouse.scalar("select max(loaded_at) from raw.staging_events")
    assert {tested_through for _, tested_through in recorded} == {newest_load}


def test_the_staging_model_built_alone_records_its_watermarks(warehouse, real_sample):
    """As the Airflow DAG builds it: in a task of its own, before any mart, so before the
    schema that holds the watermarks exists."""
    warehouse.load(real_sample)
    # The two tests that also read marts are tasks of their own in the DAG.
    marts_tests = ["assert_songplays_reconcile_with_nextsong_events", "assert_a_session_belongs_to_one_user"]
    warehouse.dbt("build", "--select", "stg_sparkify__events", "--exclude", *marts_tests,
                  "--exclude-resource-type", "unit_test")  # fmt: skip

    recorded = warehouse.query("select test_id from analytics.data_test_watermarks")
    assert {test_id.split(".")[2] for (test_id,) in recorded} == {
        name for name in WATERMARKED_TESTS if "stg_sparkify__events" in name
    }


def test_a_new_event_is_checked_against_its_whole_session_and_the_failure_stays(warehouse, tmp_path):
    root, (last_day, parked) = built_days(tmp_path, days=3)
    assert warehouse.pipeline(root).returncode == 0
    # The next day brings an event of another user in a session that was tested already.
    session_id, user_id = warehouse.query(
        "select session_id, user_id from analytics.sessions where user_id is not null order by session_id limit 1"
    )[0]
    other_user = warehouse.scalar(f"select min(user_id) from analytics.users where user_id <> {user_id}")
    first_event = json.loads(next(root.glob("log_data/**/*.json")).read_text().splitlines()[0])
    intruder = {**first_event, "sessionId": session_id, "userId": str(other_user), "itemInSession": 9999,
                "page": "Home", "auth": "Logged In", "ts": first_event["ts"] + 3 * 86_400_000}  # fmt: skip
    shutil.move(parked, last_day)
    last_day.write_text(last_day.read_text().rstrip("\n") + "\n" + generate.event_line(intruder) + "\n")

    daily = warehouse.pipeline(root)
    assert daily.returncode != 0
    assert "FAIL 1 assert_a_session_belongs_to_one_user" in daily.stdout, daily.stdout[-3000:]
    # A failed test does not move its watermark: the next build, with nothing new, fails again.
    again = warehouse.dbt("build", "--select", "assert_a_session_belongs_to_one_user", check=False)
    assert again.returncode != 0
    assert "FAIL 1 assert_a_session_belongs_to_one_user" in again.stdout, again.stdout


UNIQUE_SONGPLAYS = ["--select", "songplays,test_name:unique"]


def built_with_a_tested_duplicate(warehouse, tmp_path: Path) -> Path:
    """A built location whose songplays hold a duplicate among rows already tested (put there
    by hand), which the watermarked unique test therefore does not read; returns the location."""
    root, _ = built_days(tmp_path, days=2)
    assert warehouse.pipeline(root).returncode == 0
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.execute("insert into analytics.songplays select * from analytics.songplays limit 1")
    assert warehouse.dbt("test", *UNIQUE_SONGPLAYS, check=False).returncode == 0
    return root


def test_rows_tested_before_are_read_again_only_when_asked(warehouse, tmp_path):
    built_with_a_tested_duplicate(warehouse, tmp_path)

    every_row = warehouse.dbt("test", *UNIQUE_SONGPLAYS, "--vars", "{test_all_rows: true}", check=False)

    assert every_row.returncode != 0
    assert "FAIL 1 unique_songplays_songplay_id" in every_row.stdout, every_row.stdout


def test_after_a_load_takes_events_out_of_staging_every_row_is_tested_again(warehouse, tmp_path):
    """The marts are then rebuilt whole, so rows tested before may have changed."""
    root = built_with_a_tested_duplicate(warehouse, tmp_path)
    day = sorted(root.glob("log_data/**/*.json"))[0]
    day.write_text("\n".join(day.read_text().splitlines()[1:]) + "\n")

    warehouse.load(root)
    after_the_load = warehouse.dbt("test", *UNIQUE_SONGPLAYS, check=False)

    assert after_the_load.returncode != 0
    assert "FAIL 1 unique_songplays_songplay_id" in after_the_load.stdout, after_the_load.stdout


def test_after_a_load_brings_song_rows_every_row_is_tested_again(warehouse, tmp_path):
    """A song file that arrives matches plays loaded before and changes their song."""
    root, _ = built_days(tmp_path, days=2)
    assert warehouse.pipeline(root).returncode == 0
    # A tested play whose song is not a song: the watermarked test does not read it.
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.execute("update analytics.songplays set song_id = 'SONOTASONG' where songplay_id = "
                           "(select min(songplay_id) from analytics.songplays where song_id is not null)")  # fmt: skip
    songs_of_plays = ["--select", "relationships_songplays_song_id__song_id__ref_songs_"]
    assert warehouse.dbt("test", *songs_of_plays, check=False).returncode == 0
    song = json.loads(next(root.glob("song_data/**/*.json")).read_text())
    late_song = root / "song_data/late/TRLATESONG.json"
    late_song.parent.mkdir()
    late_song.write_text(json.dumps({**song, "song_id": "SOLATESONG", "title": "A Late Song"}))

    warehouse.load(root)
    after_the_load = warehouse.dbt("test", *songs_of_plays, check=False)

    assert after_the_load.returncode != 0
    assert "FAIL 1 relationships_songplays_song_id" in after_the_load.stdout, after_the_load.stdout
