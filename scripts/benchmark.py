#!/usr/bin/env python3
"""Measure the embedded pipeline and the generator; print the figures, assert nothing.

    .venv/bin/python scripts/benchmark.py                    # load + build + test on the real sample
    .venv/bin/python scripts/benchmark.py --generate 3000 365 100000   # generator at scale

Each figure is the wall time of a fresh process, with dbt's start-up included, and the
peak resident memory of that process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_SAMPLE = PROJECT_DIR.parent / "shared/data/sparkify-sample"
TIME = shutil.which("time") or "/usr/bin/time"


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one command, which must succeed."""
    started = time.monotonic()
    result = subprocess.run([TIME, "-f", "%M", *command], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    return elapsed, peak_kib // 1024


def warehouse_env(workdir: Path) -> dict[str, str]:
    profiles = workdir / "profiles"
    profiles.mkdir(exist_ok=True)
    shutil.copy(PROJECT_DIR / "profiles.example.yml", profiles / "profiles.yml")
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles),
        "DBT_TARGET": "local",
        "SPARKIFY_DUCKDB_PATH": str(workdir / "bench.duckdb"),
    }


def bench_pipeline(sample: Path, runs: int) -> None:
    print(f"Load + build + test of {sample} ({runs} runs, the first on an empty warehouse)")
    with tempfile.TemporaryDirectory() as workdir:
        env = warehouse_env(Path(workdir))
        one_process = [measure([str(BIN / "python"), "-m", "sparkify.pipeline", "--location", str(sample)], env)
                       for _ in range(runs)]  # fmt: skip
        two_commands = []
        for _ in range(runs):
            load = measure([str(BIN / "dbt"), "run-operation", "load_raw", "--args", f"{{location: '{sample}'}}"], env)
            build = measure([str(BIN / "dbt"), "build"], env)
            two_commands.append((load[0] + build[0], max(load[1], build[1])))
    for label, figures in (("make pipeline (one dbt process)", one_process),
                           ("make load && dbt build (two)   ", two_commands)):  # fmt: skip
        walls = [wall for wall, _ in figures]
        print(
            f"  {label}: median {statistics.median(walls):.2f} s, best {min(walls):.2f} s, "
            f"worst {max(walls):.2f} s, peak RSS {max(rss for _, rss in figures)} MiB"
        )


def bench_generator(users: int, days: int, songs: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        out = Path(workdir) / "data"
        command = [str(BIN / "python"), "-m", "sparkify.generate", "--out", str(out),
                   "--users", str(users), "--days", str(days), "--songs", str(songs)]  # fmt: skip
        wall, rss = measure(command, dict(os.environ))
        events = sum(sum(1 for _ in path.open()) for path in out.glob("log_data/**/*.json"))
        size = sum(path.stat().st_size for path in out.rglob("*.json")) / 2**20
    print(f"Generator: {users:,} users x {days} days, {songs:,} songs")
    print(f"  {events:,} events, {size:,.0f} MiB in {wall:.1f} s ({events / wall:,.0f} events/s), peak RSS {rss} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="raw data to load (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each pipeline form (default: %(default)s)")
    parser.add_argument("--generate", type=int, nargs=3, metavar=("USERS", "DAYS", "SONGS"),
                        help="benchmark the generator at this size instead")  # fmt: skip
    args = parser.parse_args()
    if args.generate:
        bench_generator(*args.generate)
    else:
        if not (args.sample / "log_data").is_dir():
            parser.error(f"no log_data/ under {args.sample}; pass --sample")
        bench_pipeline(args.sample.resolve(), args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
