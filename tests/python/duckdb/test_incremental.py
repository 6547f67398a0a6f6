"""Incremental loads and builds give exactly the tables of a full rebuild."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.datasets import most_played_song_files, move

from sparkify import generate

MARTS = (
    "songplays",
    "users",
    "songs",
    "artists",
    "time",
    "user_level_periods",
    "user_profiles",
    "sessions",
    "user_agents",
)


def mart_hashes(warehouse) -> dict[str, tuple]:
    return {
        mart: warehouse.query(
            f"select count(*), md5(string_agg(cast(t as varchar), '|' order by t)) from analytics.{mart} as t"
        )[0]
        for mart in MARTS
    }


def pipeline(warehouse, location: Path) -> None:
    """Load what is new at location, then build and test, in one dbt process; it must pass."""
    result = warehouse.pipeline(location)
    assert result.returncode == 0, result.stdout + result.stderr


def split_within_a_session(day: Path) -> tuple[Path, Path]:
    """Cut a day's log file in two, in time order, where a session runs on over the cut."""
    lines = day.read_text().splitlines(keepends=True)
    sessions = [json.loads(line)["sessionId"] for line in lines]
    cut = next(cut for cut in range(len(lines) // 2, len(lines)) if sessions[cut] in sessions[:cut])
    first, second = day.with_name(f"{day.stem}-1.json"), day.with_name(f"{day.stem}-2.json")
    first.write_text("".join(lines[:cut]))
    second.write_text("".join(lines[cut:]))
    day.unlink()
    return first, second


def test_appending_days_incrementally_equals_a_full_rebuild(warehouse, tmp_path):
    full, held_back = tmp_path / "full", tmp_path / "held_back"
    generate.generate(full, users=30, days=6, songs=40, match_rate=0.9, seed=11)
    days = [day.relative_to(full) for day in sorted(full.glob("log_data/**/*.json"))]
    # A day that arrives after later ones: its users are built again from all their events.
    late_day = days[1]
    for day in [late_day, *days[3:]]:
        move(full / day, full, held_back)
    # A day in two parts: a session running over the cut continues in the second part.
    first_part, second_part = (part.relative_to(held_back) for part in split_within_a_session(held_back / days[3]))
    # A song file arrives late: the plays of it that were loaded earlier must match it then.
    late_song = sorted(full.glob("song_data/**/*.json"))[0]
    move(late_song, full, held_back)
    # A day delivered twice, under another name: each play still counts once.
    shutil.copy(full / days[0], (full / days[0]).with_name("redelivered-events.json"))

    pipeline(warehouse, full)
    for arrivals in [[first_part], [second_part], [late_day, *days[4:], late_song.relative_to(full)]]:
        for arrival in arrivals:
            move(held_back / arrival, held_back, full)
        pipeline(warehouse, full)
    incremental = mart_hashes(warehouse)

    warehouse.dbt("build", "--full-refresh")

    assert mart_hashes(warehouse) == incremental
    assert incremental["songplays"][0] > 100
    late_song_plays = warehouse.scalar(
        "select count(*) from analytics.songplays join analytics.songs using (song_id) "
        f"where songs.song_id = (select song_id from raw.staging_songs where source_file like '%{late_song.name}')"
    )
    assert late_song_plays > 0


def rename_one_and_reissue_the_other(song_files: list[Path]) -> None:
    """One file keeps its song id under a new title, the other gives its song a new id: no
    play matches the new title, and no play may keep the id that is gone."""
    renamed, reissued = song_files
    for path, changes in [(renamed, {"title": "A Title Nobody Played"}), (reissued, {"song_id": "SOREISSUED0000001"})]:
        song = json.loads(path.read_text())
        path.write_text(json.dumps({**song, **changes}))


def empty_it(song_files: list[Path]) -> None:
    """Its song leaves staging, and no song row is new: only the plays can say what changed."""
    [emptied] = song_files
    emptied.write_text("")


@pytest.mark.parametrize(("songs", "change"), [(2, rename_one_and_reissue_the_other), (1, empty_it)])
def test_a_changed_song_file_unmatches_the_plays_of_its_old_song(warehouse, tmp_path, songs, change):
    location = tmp_path / "raw"
    generate.generate(location, users=30, days=3, songs=40, match_rate=0.9, seed=12)
    pipeline(warehouse, location)
    played = most_played_song_files(warehouse, location, songs)
    change(list(played.values()))

    pipeline(warehouse, location)
    incremental = mart_hashes(warehouse)
    song_ids = ", ".join(f"'{song_id}'" for song_id in played)
    still_matched = warehouse.scalar(f"select count(*) from analytics.songplays where song_id in ({song_ids})")

    warehouse.dbt("build", "--full-refresh")

    assert mart_hashes(warehouse) == incremental
    assert still_matched == 0


def test_a_day_sent_again_with_fewer_events_leaves_the_marts_as_a_full_rebuild(warehouse, tmp_path):
    """The events that left staging with the changed file leave every mart too."""
    location = tmp_path / "raw"
    generate.generate(location, users=30, days=3, songs=40, match_rate=0.9, seed=13)
    pipeline(warehouse, location)
    day = sorted(location.glob("log_data/**/*.json"))[1]
    lines = day.read_text().splitlines()
    day.write_text("\n".join(lines[: len(lines) // 2]) + "\n")

    pipeline(warehouse, location)
    incremental = mart_hashes(warehouse)
    deleted = warehouse.query("select source_table, rows_deleted from raw.staging_deletions")

    warehouse.dbt("build", "--full-refresh")

    assert mart_hashes(warehouse) == incremental
    assert deleted == [("staging_events", len(lines) - len(lines) // 2)]
