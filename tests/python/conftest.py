"""Shared fixtures: throwaway warehouses on DuckDB and on the Redshift double, the real
sample and its build, the S3 emulator, and small generated datasets. Each test folder is a
tier, marked with its name (pyproject.toml lists them): `make test-fast` runs `fast` alone."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import boto3
import pytest
from filelock import FileLock
from support.aws_emulator import aws_emulator, bucket_slug, emulator_env
from support.project import REAL_SAMPLE, TESTS_DIR
from support.redshift import RedshiftWarehouse, make_redshift_warehouse, profile_and_target
from support.redshift_double.server import postgres_server
from support.warehouse import SESSION_DIR, Warehouse, make_warehouse

from sparkify import generate


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier, the name of its folder, and run the tiers in the order
    pyproject.toml lists them, the slowest first: xdist hands each worker whole modules in
    that order, so the long ones start early and both cores stay busy to the end."""
    tiers = [marker.split(":")[0] for marker in config.getini("markers")]

    def tier(item: pytest.Item) -> str:
        return item.path.relative_to(TESTS_DIR).parts[0]

    for item in items:
        item.add_marker(getattr(pytest.mark, tier(item)))
    items.sort(key=lambda item: tiers.index(tier(item)))


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
def real_sample_build(tmp_path_factory, worker_id, real_sample) -> tuple[Warehouse, str]:
    """The real sample loaded and built (models and data tests) on DuckDB, and the pipeline's
    output: the known figures are checked on it, and the Redshift double is compared with it.

    Built once per run: under xdist, the first worker to ask builds it in the run's common
    temporary folder, under a lock, and each worker takes a copy of the file.
    """
    warehouse = make_warehouse(tmp_path_factory.mktemp("real"))
    if worker_id == "master":
        result = warehouse.pipeline(real_sample)
        assert result.returncode == 0, result.stdout + result.stderr
        return warehouse, result.stdout
    shared = tmp_path_factory.getbasetemp().parent / "real_sample_build"
    with FileLock(f"{shared}.lock"):
        if not (shared / "output.txt").is_file():
            shared.mkdir(exist_ok=True)  # a worker's failed build leaves it: the next one tries again
            result = warehouse.pipeline(real_sample)
            assert result.returncode == 0, result.stdout + result.stderr
            shutil.copytree(warehouse.path.parent, shared / "warehouse", ignore=shutil.ignore_patterns("profiles"))
            (shared / "output.txt").write_text(result.stdout)
    shutil.copytree(shared / "warehouse", warehouse.path.parent, dirs_exist_ok=True)
    return warehouse, (shared / "output.txt").read_text()


@pytest.fixture(scope="session")
def postgres() -> str:
    """The PostgreSQL server behind the Redshift test double (support/redshift_double/), for the
    session; yields its URI. Its data lives outside pytest's private temporary tree, which
    the server's own user cannot enter."""
    parent = Path(tempfile.mkdtemp(prefix="sparkify-redshift-double-"))
    try:
        with postgres_server(parent / "pgdata") as uri:
            yield uri
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    """Three days of ten users and five songs, generated for one test."""
    root = tmp_path / "raw"
    generate.generate(root, users=10, days=3, songs=5, seed=5)
    return root


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """The S3 emulator (moto) for the session; yields its URL."""
    with aws_emulator() as url:
        yield url


@pytest.fixture(scope="session")
def redshift_target_path(tmp_path_factory) -> Path:
    return profile_and_target(tmp_path_factory.mktemp("redshift-target"))


@pytest.fixture(scope="session")
def aws_env(s3_endpoint) -> dict[str, str]:
    """What a process needs to reach the emulator, in us-east-1."""
    return emulator_env(s3_endpoint, "us-east-1")


@pytest.fixture
def s3(aws_env, monkeypatch, request):
    """A boto3 S3 client on the emulator, in this process's environment, with a bucket named
    after the test (`s3.bucket`)."""
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    client.bucket = f"sparkify-{bucket_slug(request.node.nodeid)}"[:63]
    client.create_bucket(Bucket=client.bucket)
    return client


@pytest.fixture
def redshift(postgres, s3_endpoint, redshift_target_path, request) -> RedshiftWarehouse:
    """A fresh database on the double and buckets of the test's own on the S3 emulator."""
    return make_redshift_warehouse(postgres, s3_endpoint, redshift_target_path, request.node.nodeid)


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(SESSION_DIR, ignore_errors=True)
