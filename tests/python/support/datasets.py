"""Helpers over raw datasets on disk: their files, their lines, files moved in and out."""

from __future__ import annotations

import shutil
from pathlib import Path


def log_files(root: Path) -> list[Path]:
    return sorted(root.glob("log_data/**/*.json"))


def count_lines(paths: list[Path]) -> int:
    return sum(len(path.read_text().splitlines()) for path in paths)


def move(source: Path, root_from: Path, root_to: Path) -> None:
    """Move a file between two dataset roots, keeping its place in the layout."""
    target = root_to / source.relative_to(root_from)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)


def most_played_song_files(warehouse, location: Path, count: int) -> dict[str, Path]:
    """The song id and song file of the `count` songs played most in a built warehouse."""
    return {
        song_id: location / source_file
        for song_id, source_file in warehouse.query(
            "select songs.song_id, raw.source_file from analytics.songplays "
            "join analytics.songs using (song_id) join raw.staging_songs as raw on raw.song_id = songs.song_id "
            f"group by 1, 2 order by count(*) desc, 1 limit {count}"
        )
    }
