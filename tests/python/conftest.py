"""Shared fixtures: a throwaway DuckDB warehouse per test and a dbt runner pointed at it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
REAL_SAMPLE = Path(os.environ.get("SPARKIFY_SAMPLE_DIR", PROJECT_DIR.parent / "shared/data/sparkify-sample"))
BIN = Path(sys.executable).parent


@dataclass
class Warehouse:
    """A DuckDB file and the environment that points dbt at it."""

    path: Path
    env: dict[str, str]

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(BIN / "dbt"), *args], cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True
        )
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def load(self, location: Path | str, max_rejects: int | None = None, check: bool = True):
        load_args = f"location: '{location}'" + (f", max_rejects: {max_rejects}" if max_rejects is not None else "")
        return self.dbt("run-operation", "load_raw", "--args", "{" + load_args + "}", check=check)

    def make(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["make", "--no-print-directory", *args], cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise AssertionError(f"make {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.sql(sql).fetchall()

    def scalar(self, sql: str):
        return self.query(sql)[0][0]


def make_warehouse(tmp_path: Path) -> Warehouse:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(PROJECT_DIR / "profiles.example.yml", profiles / "profiles.yml")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles),
        "DBT_TARGET": "local",
        "SPARKIFY_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return Warehouse(tmp_path / "warehouse.duckdb", env)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return make_warehouse(tmp_path)


@pytest.fixture(scope="session")
def real_sample() -> Path:
    if not (REAL_SAMPLE / "log_data").is_dir():
        message = f"the real Sparkify sample is not at {REAL_SAMPLE} (set SPARKIFY_SAMPLE_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REAL_SAMPLE


@pytest.fixture(scope="session")
def real_sample_build(tmp_path_factory, real_sample) -> tuple[Warehouse, str]:
    """The real sample loaded and built (models, data tests, unit tests) on DuckDB, once per
    session: the known figures are checked on it, and the Redshift double is compared with it."""
    warehouse = make_warehouse(tmp_path_factory.mktemp("real"))
    result = subprocess.run(
        [sys.executable, "-m", "sparkify.pipeline", "--location", str(real_sample)],
        cwd=PROJECT_DIR, env=warehouse.env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return warehouse, result.stdout
