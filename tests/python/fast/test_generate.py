"""The generator writes the real sample's layout and formats, deterministically."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from sparkify import generate


def json_types(records: list[dict]) -> dict[str, set[str]]:
    types: dict[str, set[str]] = defaultdict(set)
    for record in records:
        for key, value in record.items():
            types[key].add(type(value).__name__)
    return dict(types)


def read_events(root: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(root.glob("log_data/*/*/*-events.json"))
        for line in path.read_text().splitlines()
    ]


def read_songs(root: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(root.glob("song_data/*/*/*/*.json"))]


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate.generate(out, users=60, days=10, songs=40, seed=7)
    return out


def test_same_seed_writes_the_same_bytes(tmp_path, generated):
    again = tmp_path / "again"
    generate.generate(again, users=60, days=10, songs=40, seed=7)
    assert file_bytes(again) == file_bytes(generated)


def test_another_seed_writes_other_data(tmp_path, generated):
    other = tmp_path / "other"
    generate.generate(other, users=60, days=10, songs=40, seed=8)
    assert file_bytes(other) != file_bytes(generated)


def test_events_have_the_real_keys_and_json_types(generated, real_sample):
    real_types = json_types(read_events(real_sample))
    generated_types = json_types(read_events(generated))
    assert set(generated_types) == set(real_types)
    for key, types in generated_types.items():
        assert types <= real_types[key], f"{key} is {types}, the real sample has {real_types[key]}"


def test_songs_have_the_real_keys_and_json_types(generated, real_sample):
    real_types = json_types(read_songs(real_sample))
    generated_types = json_types(read_songs(generated))
    assert list(read_songs(generated)[0]) == list(read_songs(real_sample)[0])
    for key, types in generated_types.items():
        assert types <= real_types[key], f"{key} is {types}, the real sample has {real_types[key]}"


def test_json_paths_file_matches_the_real_one(generated, real_sample):
    real = json.loads((real_sample / "log_json_path.json").read_text())
    assert json.loads((generated / "log_json_path.json").read_text()) == real


def test_the_serialiser_reproduces_real_lines_byte_for_byte(real_sample):
    for path in sorted(real_sample.glob("log_data/**/*.json"))[:3]:
        for line in path.read_text().splitlines():
            assert generate.event_line(json.loads(line)) == line


def test_files_follow_the_real_layout_and_serialisation(generated):
    log_files = sorted(generated.glob("log_data/**/*.json"))
    assert len(log_files) == 10
    for path in log_files:
        assert re.fullmatch(r"log_data/(\d{4})/(\d{2})/\1-\2-\d{2}-events\.json", str(path.relative_to(generated)))
        text = path.read_text()
        assert not text.endswith("\n")
        assert all(generate.event_line(json.loads(line)) == line for line in text.splitlines())
    for path in generated.glob("song_data/**/*.json"):
        track = path.stem
        assert re.fullmatch(r"TR[A-Z]{3}[A-Z0-9]{13}", track)
        assert path.parent.relative_to(generated).parts == ("song_data", track[2], track[3], track[4])


def test_event_values_are_shaped_like_eventsim(generated):
    events = read_events(generated)
    for event in events:
        logged_in = event["auth"] in ("Logged In", "Cancelled")
        assert (event["userId"] != "") == logged_in
        if logged_in:
            assert event["userAgent"].startswith('"') and event["userAgent"].endswith('"')
        assert (event["song"] is not None) == (event["page"] == "NextSong")
        assert 1_500_000_000_000 < event["ts"] < 1_600_000_000_000
    for path in generated.glob("log_data/**/*.json"):
        day = path.name[:10]
        stamps = [json.loads(line)["ts"] for line in path.read_text().splitlines()]
        assert stamps == sorted(stamps)
        days = {dt.datetime.fromtimestamp(ts / 1000, dt.UTC).date().isoformat() for ts in stamps}
        assert days == {day}


def test_users_change_level_and_every_page_type_appears(tmp_path):
    generate.generate(tmp_path, users=200, days=30, songs=50, seed=3)
    events = read_events(tmp_path)
    assert {event["page"] for event in events} == set(generate.PAGE_METHOD_STATUS)
    assert {event["auth"] for event in events} == {"Logged In", "Logged Out", "Guest", "Cancelled"}
    levels: dict[str, list[str]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e["ts"]):
        if event["userId"]:
            levels[event["userId"]].append(event["level"])
    changed = [user for user, seen in levels.items() if len(set(seen)) == 2]
    assert changed, "no user changed level"


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_match_rate_sets_the_share_of_plays_from_the_catalog(tmp_path, rate):
    generate.generate(tmp_path, users=100, days=10, songs=60, match_rate=rate, seed=11)
    catalog = {(song["title"], song["artist_name"]) for song in read_songs(tmp_path)}
    plays = [e for e in read_events(tmp_path) if e["page"] == "NextSong"]
    matched = sum((play["song"], play["artist"]) in catalog for play in plays) / len(plays)
    assert matched == pytest.approx(rate, abs=0.05)


def test_knobs_set_users_days_and_songs(tmp_path):
    counts = generate.generate(tmp_path, users=5, days=3, songs=9, seed=1)
    assert len(list(tmp_path.glob("log_data/**/*.json"))) == 3
    assert len(list(tmp_path.glob("song_data/**/*.json"))) == 9
    users = {e["userId"] for e in read_events(tmp_path) if e["userId"]}
    assert users <= {str(n) for n in range(1, 6)}
    assert counts["events"] == len(read_events(tmp_path))


@pytest.mark.parametrize(
    "args", [["--users", "0"], ["--days", "-1"], ["--songs", "0"], ["--match-rate", "1.5"], ["--start", "nope"]]
)
def test_bad_knobs_fail_with_a_message(tmp_path, args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        generate.main(["--out", str(tmp_path / "out"), *args])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_new_run_replaces_the_previous_output(tmp_path):
    out = tmp_path / "generated"
    generate.generate(out, users=5, days=4, songs=9, seed=1)
    generate.generate(out, users=5, days=2, songs=3, seed=1)

    assert len(list(out.glob("log_data/**/*.json"))) == 2
    assert len(list(out.glob("song_data/**/*.json"))) == 3


def test_a_directory_the_generator_did_not_write_is_refused(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine")

    with pytest.raises(ValueError, match="is not empty and was not written by the generator"):
        generate.generate(out, users=1, days=1, songs=1)
    assert [path.name for path in out.iterdir()] == ["notes.txt"]
