"""A throwaway DuckDB warehouse: a file, the environment that points dbt at it, and the
project's commands run against it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from support import preloaded
from support.project import BIN, PROJECT_DIR

# dbt parses the whole project again (about 2 s) whenever the profile renders differently,
# and the warehouse's path is part of it. So every test warehouse is reached through one
# path, a symbolic link pointed at the warehouse's own folder whenever its environment is
# taken: dbt parses the project once a session, not once a test. A session (an xdist worker
# each) runs its tests one at a time, and has dbt's target and log folders of its own, so that
# two workers never write one partial parse, and the user's next `make` keeps theirs.
SESSION_DIR = Path(tempfile.mkdtemp(prefix="sparkify-tests-"))
WAREHOUSE_LINK = SESSION_DIR / "current"
DBT_TARGET_PATH = SESSION_DIR / "target"


@dataclass
class Warehouse:
    """A DuckDB file and the environment that points dbt at it."""

    path: Path
    _env: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        """The environment of a command on this warehouse: taking it points the shared
        link at this warehouse's folder."""
        pointer = WAREHOUSE_LINK.with_name("next")
        pointer.unlink(missing_ok=True)
        pointer.symlink_to(self.path.parent, target_is_directory=True)
        pointer.replace(WAREHOUSE_LINK)
        return self._env

    @env.setter
    def env(self, value: dict[str, str]) -> None:
        self._env = value

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = preloaded.run(["dbt", *args], self.env, PROJECT_DIR)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def load(self, location: Path | str, max_rejects: int | None = None, full_refresh=False, check=True):
        """`make load`'s command: the load planned in Python, then dbt's load_raw operation."""
        command = ["python", "-m", "sparkify.load", "--location", str(location)]
        command += [f"--max-rejects={max_rejects}"] if max_rejects is not None else []
        result = self.run(*command, *(["--full-refresh"] if full_refresh else []))
        if check and result.returncode != 0:
            raise AssertionError(f"the load of {location} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def run(self, *command: str) -> subprocess.CompletedProcess:
        """A command of the project's venv (`python -m module ...` or `dbt ...`), in the project,
        against this warehouse, started with dbt imported already (support/preloaded.py)."""
        return preloaded.run(list(command), self.env, PROJECT_DIR)

    def pipeline(self, location: Path | str) -> subprocess.CompletedProcess:
        """`make pipeline`: load what is new at location, then build and test, in one dbt process."""
        return self.run("python", "-m", "sparkify.pipeline", "--location", str(location))

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
        "SPARKIFY_DUCKDB_PATH": str(WAREHOUSE_LINK / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(DBT_TARGET_PATH),
        "DBT_LOG_PATH": str(SESSION_DIR / "logs"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    # No target named: the profile's default (local), as `make` passes it. Named here and not by
    # make, it would make each switch between the two parse the whole project again.
    env.pop("DBT_TARGET", None)
    return Warehouse(tmp_path / "warehouse.duckdb", env)
