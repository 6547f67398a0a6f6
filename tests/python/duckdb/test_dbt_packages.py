"""dbt packages: `make deps` (scripts/dbt-deps) copies dbt_utils from a mirror or says what to
set, and the dbt_utils tests in the build catch bad data."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from support.project import PROJECT_DIR

from sparkify import generate


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A bare project holding the script, so the real dbt_packages/ is left alone."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(PROJECT_DIR / "scripts/dbt-deps", root / "scripts/dbt-deps")
    shutil.copy(PROJECT_DIR / "packages.yml", root / "packages.yml")
    return root


def dbt_deps(project: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("DBT_PACKAGES_MIRROR", "DBT")}
    return subprocess.run(
        [project / "scripts/dbt-deps"], env={**environment, **env}, capture_output=True, text=True, timeout=120
    )


def test_deps_copies_dbt_utils_from_the_mirror(project, tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "dbt_utils/macros").mkdir(parents=True)
    (mirror / "dbt_utils/dbt_project.yml").write_text("name: dbt_utils\n")
    (mirror / "dbt_utils/macros/marker.sql").write_text("-- from the mirror\n")
    os.chmod(mirror / "dbt_utils/macros/marker.sql", 0o444)

    result = dbt_deps(project, DBT_PACKAGES_MIRROR=str(mirror))

    assert result.returncode == 0, result.stderr
    assert f"copied dbt_utils from the mirror {mirror}" in result.stdout
    copied = project / "dbt_packages/dbt_utils/macros/marker.sql"
    assert copied.read_text() == "-- from the mirror\n"
    assert os.access(copied, os.W_OK), "a read-only mirror must not leave read-only files behind"


def test_deps_names_the_variable_when_the_mirror_lacks_dbt_utils(project, tmp_path):
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()

    result = dbt_deps(project, DBT_PACKAGES_MIRROR=str(empty_mirror))

    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: DBT_PACKAGES_MIRROR={empty_mirror} has no dbt_utils/")
    assert not (project / "dbt_packages").exists()


def test_deps_without_a_mirror_says_what_to_set_when_the_hub_is_unreachable(project, tmp_path):
    # A stand-in for `dbt deps` offline, which fails with this error after its retries.
    offline_dbt = tmp_path / "dbt"
    offline_dbt.write_text(
        "#!/bin/sh\necho 'Encountered an error:'\n"
        "echo 'External connection exception occurred: Max retries exceeded with url: /api/v1/index.json'\nexit 2\n"
    )
    offline_dbt.chmod(0o755)

    result = dbt_deps(project, DBT=str(offline_dbt))

    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "cannot reach the dbt package hub" in result.stderr
    assert "set DBT_PACKAGES_MIRROR" in result.stderr
    assert "External connection exception" in (project / "logs/dbt-deps.log").read_text()


def test_a_dbt_utils_range_test_fails_on_an_impossible_latitude(warehouse, tmp_path):
    """The load's contract rejects such a song (test_load.py); a row that reaches staging
    another way still fails the mart's test."""
    raw = tmp_path / "raw"
    generate.generate(raw, users=5, days=1, songs=3, seed=11)
    warehouse.load(raw)
    with duckdb.connect(str(warehouse.path)) as connection:
        connection.execute("update raw.staging_songs set artist_latitude = 123.4, artist_longitude = 10.0 "
                           "where song_id = (select min(song_id) from raw.staging_songs)")  # fmt: skip

    result = warehouse.dbt("build", "--select", "+artists", check=False)

    assert result.returncode != 0
    failed = [line for line in result.stdout.splitlines() if " FAIL " in line]
    assert len(failed) == 1, result.stdout
    assert "dbt_utils_accepted_range_artists_latitude" in failed[0]
