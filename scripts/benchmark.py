#!/usr/bin/env python3
"""Measure the embedded pipeline against the raw-scan floor, side by side; print the figures.

    .venv/bin/python scripts/benchmark.py --scale 1m        # make bench SCALE=1m (the default)
    .venv/bin/python scripts/benchmark.py --scale 10m       # make bench SCALE=10m: minutes
    .venv/bin/python scripts/benchmark.py --scale sample    # the real sample
    .venv/bin/python scripts/benchmark.py --generate 3000 365 100000   # the generator alone

For a scale, the data is generated into data/bench/<scale> when missing. Each figure is the
wall time of a fresh process (start-up included) and its peak resident memory, after every
file has been read once, so that both sides read from a warm page cache:

* floor: plain DuckDB `read_json` of the same files with explicit columns into two tables
  (song files in batches of 10,000, so that the floor itself fits in memory), and a
  plain-SQL star schema built from them;
* project: `make load` (python -m sparkify.load) on an empty warehouse, then `dbt build` as
  the daily `make pipeline` runs it (without the unit tests); and, on another empty
  warehouse, `make pipeline`, which does both in one process (dbt starts and parses once);
* append: the last day's log file is held back from the full run, then `make load` and
  `dbt build` take it in, as a daily run does; then, from the same warehouse again,
  `make pipeline` does both in one process;
* idle: `make pipeline` once more, with nothing new: the fixed cost of any daily run;
* growth (at 10m): the one-day append as `make pipeline` at 1m as well, from a warehouse of
  1m built without its last day: a daily run's cost must grow with the day, not with history.

It prints the ratios that the loader's targets are stated in and asserts nothing.

scripts/benchmark_dag.py measures the daily Airflow DAG against `make pipeline` (make bench-dag).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sparkify.pipeline import DAILY_BUILD

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SAMPLE = PROJECT_DIR.parent / "shared/data/sparkify-sample"
# users, days, songs of each generated scale (seed 42).
SCALES = {"1m": (1750, 365, 10_000), "10m": (17_500, 365, 100_000)}

# Runs a command and prints its peak RSS (KiB) last on stderr: no /usr/bin/time needed.
PEAK_RSS_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)"
)

FLOOR_SCRIPT = """
import sys, duckdb
root, database = sys.argv[1], sys.argv[2]
events = {events}
songs = {songs}
connection = duckdb.connect(database)
connection.execute("set preserve_insertion_order = false; set enable_progress_bar = false")
def columns(spec):
    return "{{" + ", ".join(f"'{{key}}': '{{kind}}'" for key, kind in spec.items()) + "}}"
connection.execute(
    f"create table events as select * from read_json(?, format = 'newline_delimited', columns = {{columns(events)}})",
    [root + "/log_data/**/*.json"],
)
song_glob = root + "/song_data/**/*.json"
song_files = [file for (file,) in connection.execute("select file from glob(?)", [song_glob]).fetchall()]
for start in range(0, len(song_files), 10_000):
    verb = "create table songs as" if start == 0 else "insert into songs"
    connection.execute(
        f"{{verb}} select * from read_json(?, format = 'newline_delimited', columns = {{columns(songs)}})",
        [song_files[start : start + 10_000]],
    )
"""

STAR_SQL = """
create table songplays as
select
    md5(concat_ws('|', "userId", "sessionId", "itemInSession")) as songplay_id,
    make_timestamp(ts * 1000) as start_time, try_cast(nullif("userId", '') as integer) as user_id, level,
    songs.song_id, songs.artist_id, "sessionId" as session_id, location, "userAgent" as user_agent
from events
left join (select distinct on (lower(title), lower(artist_name)) * from songs) as songs
    on lower(events.song) = lower(songs.title) and lower(events.artist) = lower(songs.artist_name)
where page = 'NextSong';
create table users as
select distinct on (user_id) try_cast("userId" as integer) as user_id, "firstName", "lastName", gender, level
from events where "userId" <> '' order by user_id, ts desc;
create table songs_dim as select distinct on (song_id) song_id, title, artist_id, year, duration from songs;
create table artists as
select distinct on (artist_id) artist_id, artist_name, artist_location, artist_latitude, artist_longitude from songs;
create table time as
select start_time, hour(start_time) as hour, day(start_time) as day, week(start_time) as week,
    month(start_time) as month, year(start_time) as year, dayofweek(start_time) as weekday
from (select distinct start_time from songplays);
"""


def measure(command: list[str], env: dict[str, str], label: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one command, which must succeed."""
    wall, peak, _ = measure_with_output(command, env, label)
    return wall, peak


def measure_with_output(command: list[str], env: dict[str, str], label: str) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MiB) and standard output of one command, which must succeed."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_WRAPPER, *command], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{label} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    print(f"    {label:<28} {wall:8.1f} s {peak_kib // 1024:8,} MiB", flush=True)
    return wall, peak_kib // 1024, result.stdout


def pipeline_command(root: Path) -> list[str]:
    """`make pipeline` on root: load what is new, build and test, in one process."""
    return [str(BIN / "python"), "-m", "sparkify.pipeline", "--location", str(root)]


def dataset(scale: str) -> Path:
    if scale == "sample":
        return SAMPLE
    root = PROJECT_DIR / "data/bench" / scale
    if not (root / "log_data").is_dir():
        users, days, songs = SCALES[scale]
        print(f"Generating {scale} ({users:,} users, {days} days, {songs:,} songs) into {root}...", flush=True)
        command = [str(BIN / "python"), "-m", "sparkify.generate", "--out", str(root),
                   "--users", str(users), "--days", str(days), "--songs", str(songs), "--seed", "42"]  # fmt: skip
        subprocess.run(command, cwd=PROJECT_DIR, check=True)
    return root


def warehouse_env(workdir: Path, warehouse: str = "warehouse.duckdb") -> dict[str, str]:
    profiles = workdir / "profiles"
    profiles.mkdir(exist_ok=True)
    shutil.copy(PROJECT_DIR / "profiles.example.yml", profiles / "profiles.yml")
    return {**os.environ, "DBT_PROFILES_DIR": str(profiles), "DBT_TARGET": "local",
            "SPARKIFY_DUCKDB_PATH": str(workdir / warehouse)}  # fmt: skip


def column_types() -> tuple[dict[str, str], dict[str, str]]:
    """The raw columns with DuckDB types, as the project's raw_tables.sql declares them."""
    events = dict(artist="VARCHAR", auth="VARCHAR", firstName="VARCHAR", gender="VARCHAR", itemInSession="INTEGER",
                  lastName="VARCHAR", length="DOUBLE", level="VARCHAR", location="VARCHAR", method="VARCHAR",
                  page="VARCHAR", registration="DOUBLE", sessionId="INTEGER", song="VARCHAR", status="INTEGER",
                  ts="BIGINT", userAgent="VARCHAR", userId="VARCHAR")  # fmt: skip
    songs = dict(num_songs="INTEGER", artist_id="VARCHAR", artist_latitude="DOUBLE", artist_longitude="DOUBLE",
                 artist_location="VARCHAR", artist_name="VARCHAR", song_id="VARCHAR", title="VARCHAR",
                 duration="DOUBLE", year="INTEGER")  # fmt: skip
    return events, songs


def warm_page_cache(root: Path) -> None:
    """Read every file once, so that the floor, which runs first, reads from the page cache
    as the project after it does: a cold floor made the ratios flattering."""
    started, files, size = time.monotonic(), 0, 0
    for directory, _, names in os.walk(root, followlinks=True):
        for name in names:
            with open(os.path.join(directory, name), "rb") as file:
                while chunk := file.read(1 << 20):
                    size += len(chunk)
            files += 1
    print(f"    page cache warmed: {files:,} files, {size / 2**20:,.0f} MiB in {time.monotonic() - started:.1f} s",
          flush=True)  # fmt: skip


def floor(root: Path, workdir: Path) -> tuple[tuple[float, int], tuple[float, int]]:
    database = workdir / f"floor-{time.monotonic_ns()}.duckdb"
    events, songs = column_types()
    script = FLOOR_SCRIPT.format(events=json.dumps(events), songs=json.dumps(songs))
    env = dict(os.environ)
    scan = measure([str(BIN / "python"), "-c", script, str(root), str(database)], env, "floor: read_json")
    star_script = (
        "import sys, duckdb; duckdb.connect(sys.argv[1]).execute('set enable_progress_bar = false; ' + sys.argv[2])"
    )
    star = measure([str(BIN / "python"), "-c", star_script, str(database), STAR_SQL], env, "floor: plain-SQL star")
    database.unlink()
    return scan, star


def project(root: Path, workdir: Path, bring_last_day) -> dict[str, tuple[float, int]]:
    env = warehouse_env(workdir)
    warehouse, before_append = Path(env["SPARKIFY_DUCKDB_PATH"]), workdir / "before-append.duckdb"
    load = [str(BIN / "python"), "-m", "sparkify.load", "--location", str(root)]
    build = [str(BIN / "dbt"), *DAILY_BUILD]
    pipeline = pipeline_command(root)
    # dbt parses the whole project again when the profile renders differently (here, a new
    # warehouse path), which a daily user pays once: parse first, as their project is.
    subprocess.run([str(BIN / "dbt"), "parse"], cwd=PROJECT_DIR, env=env, capture_output=True, check=True)
    # The full run as one process first, then as the two commands, each on an empty warehouse.
    figures = {"full pipeline": measure(pipeline, env, "project: make pipeline")}
    warehouse.unlink()
    figures["load"] = measure(load, env, "project: make load")
    figures["build"] = measure(build, env, "project: dbt build")
    shutil.copy(warehouse, before_append)
    bring_last_day()
    figures["append load"] = measure(load, env, "append: make load")
    figures["append build"] = measure(build, env, "append: dbt build")
    # The same day again from the same warehouse, as one process: dbt starts and parses once.
    shutil.move(before_append, warehouse)
    figures["append pipeline"] = measure(pipeline, env, "append: make pipeline")
    # Once more with nothing new: what any daily run costs before it has a row to process.
    figures["idle pipeline"] = measure(pipeline, env, "idle: make pipeline")
    warehouse.unlink()
    return figures


def bench_scale(scale: str, runs: int) -> dict[str, float]:
    root = dataset(scale)
    print(f"Benchmark at {scale}: {root} ({runs} run{'s' * (runs > 1)}, floor and project side by side)")
    results: dict[str, list[float]] = {}
    peaks: dict[str, int] = {}
    with tempfile.TemporaryDirectory(dir=PROJECT_DIR / "data") as tmp:
        workdir = Path(tmp)
        if scale == "sample":  # read-only where it lies: the append needs a copy to hold a day back
            root = Path(shutil.copytree(root, workdir / "sample"))
        last_day, parked = sorted(root.glob("log_data/**/*.json"))[-1], workdir / "held-back.json"
        for run in range(1, runs + 1):
            print(f"  run {run}")
            warm_page_cache(root)
            scan, star = floor(root, workdir)
            # The full run reads every day but the last, which the append then brings.
            shutil.move(last_day, parked)
            try:
                figures = project(root, workdir, lambda: shutil.move(parked, last_day))
            finally:
                if parked.exists():
                    shutil.move(parked, last_day)
            for name, (wall, rss) in {"floor scan": scan, "floor star": star, **figures}.items():
                results.setdefault(name, []).append(wall)
                peaks[name] = max(peaks.get(name, 0), rss)
    median = {name: statistics.median(walls) for name, walls in results.items()}
    full = median["load"] + median["build"]
    full_pipeline = median["full pipeline"]
    floor_and_star = median["floor scan"] + median["floor star"]
    append = median["append load"] + median["append build"]
    print(f'Figures at {scale} (medians; "as make pipeline" compares one-process runs with each other):')
    load_target = {"10m": "1.3", "1m": "2"}.get(scale, "none at this scale")
    print(f"  load / floor scan:                          {median['load'] / median['floor scan']:.2f}x "
          f"(target <= {load_target})")  # fmt: skip
    full_target = "target <= 2" if scale == "10m" else "no target at this scale"
    print(f"  (load + build) / (floor scan + plain star): {full / floor_and_star:.2f}x ({full_target}), "
          f"{full_pipeline / floor_and_star:.2f}x as make pipeline")  # fmt: skip
    append_pipeline_share = median["append pipeline"] / full_pipeline
    print(f"  one-day append / full load + build:         {append / full:.1%}, "
          f"{append_pipeline_share:.1%} as make pipeline ({median['append pipeline']:.1f} s)")  # fmt: skip
    idle = median["idle pipeline"] / full_pipeline
    print(f"  idle make pipeline / full make pipeline:    {idle:.1%} (nothing new: dbt's start, parse and tests)")
    print(f"  peak RSS: load {peaks['load']:,} MiB (target <= 1,536), build {peaks['build']:,} MiB, "
          f"floor {peaks['floor scan']:,} MiB")  # fmt: skip
    pipeline_peak = max(peaks[name] for name in ("full pipeline", "append pipeline", "idle pipeline"))
    print(f"  pipeline peak (load, build, tests): {pipeline_peak:,} MiB in make pipeline (target <= 2,560)")
    return median


def build_without_last_day(root: Path, env: dict[str, str], built: Path) -> None:
    """`make pipeline` of every day but the last into built, the warehouse a one-day append starts from."""
    warehouse = Path(env["SPARKIFY_DUCKDB_PATH"])
    last_day, parked = sorted(root.glob("log_data/**/*.json"))[-1], built.with_suffix(".held-back.json")
    print(f"    building the warehouse without the last day ({last_day.name})...", flush=True)
    shutil.move(last_day, parked)
    try:
        pipeline = pipeline_command(root)
        subprocess.run(pipeline, cwd=PROJECT_DIR, env=env, capture_output=True, check=True)
    finally:
        shutil.move(parked, last_day)
    shutil.move(warehouse, built)


def append_pipeline(scale: str, runs: int) -> float:
    """The median one-day append as `make pipeline`, each run from the same warehouse built
    without the last day."""
    root = dataset(scale)
    with tempfile.TemporaryDirectory(dir=PROJECT_DIR / "data") as tmp:
        workdir = Path(tmp)
        env = warehouse_env(workdir)
        warehouse, built = Path(env["SPARKIFY_DUCKDB_PATH"]), workdir / "built.duckdb"
        pipeline = pipeline_command(root)
        build_without_last_day(root, env, built)
        walls = []
        for _ in range(runs):
            shutil.copy(built, warehouse)
            walls.append(measure(pipeline, env, f"append at {scale}: make pipeline")[0])
    return statistics.median(walls)


def bench_growth(append_at_10m: float, runs: int) -> None:
    append_at_1m = append_pipeline("1m", runs)
    print("Growth of a daily run with history (one-day append as make pipeline):")
    print(f"  1m {append_at_1m:.1f} s, 10m {append_at_10m:.1f} s: {append_at_10m / append_at_1m:.2f}x (target <= 1.3)")


def bench_generator(users: int, days: int, songs: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        out = Path(workdir) / "data"
        command = [str(BIN / "python"), "-m", "sparkify.generate", "--out", str(out),
                   "--users", str(users), "--days", str(days), "--songs", str(songs)]  # fmt: skip
        print(f"Generator: {users:,} users x {days} days, {songs:,} songs")
        wall, _ = measure(command, dict(os.environ), "generate")
        events = sum(sum(1 for _ in path.open()) for path in out.glob("log_data/**/*.json"))
        size = sum(path.stat().st_size for path in out.rglob("*.json")) / 2**20
    print(f"  {events:,} events, {size:,.0f} MiB ({events / wall:,.0f} events/s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["sample", *SCALES], default="1m", help="data size (default: %(default)s)")
    parser.add_argument("--runs", type=int, help="runs of each side (default: 3 for sample and 1m, 1 for 10m)")
    parser.add_argument("--generate", type=int, nargs=3, metavar=("USERS", "DAYS", "SONGS"),
                        help="benchmark the generator at this size instead")  # fmt: skip
    args = parser.parse_args()
    if args.generate:
        bench_generator(*args.generate)
        return 0
    if args.scale == "sample" and not (SAMPLE / "log_data").is_dir():
        parser.error(f"no log_data/ under {SAMPLE}")
    (PROJECT_DIR / "data").mkdir(exist_ok=True)
    median = bench_scale(args.scale, args.runs or (1 if args.scale == "10m" else 3))
    if args.scale == "10m":
        bench_growth(median["append pipeline"], 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
