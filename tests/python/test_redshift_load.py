"""The Redshift path, executed: `make load TARGET=redshift` and `dbt build --target redshift`
run dbt-redshift's real adapter against the test double (redshift_double/: PostgreSQL plus
COPY from the S3 emulator), and give what DuckDB gives."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import psycopg2.extensions
import pytest
from aws_emulator import aws_emulator
from conftest import BIN, PROJECT_DIR
from redshift_double import DSN_VARIABLE
from redshift_double.server import create_database, postgres_server

DOUBLE_DIR = Path(__file__).resolve().parent / "redshift_double"
CLUSTER_REGION = "us-west-2"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
MART_KEYS = {"songplays": "songplay_id", "users": "user_id", "songs": "song_id", "artists": "artist_id",
             "time": "start_time"}  # fmt: skip


@dataclass
class RedshiftWarehouse:
    """A database on the double, a bucket on the S3 emulator, and the environment of a user
    who ran `make infra-env` against them."""

    dsn: str
    env: dict[str, str]
    bucket: str
    s3: object

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(command, cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def make_load(self, location: str, max_rejects: int | None = None, check: bool = True):
        limit = [f"MAX_REJECTS={max_rejects}"] if max_rejects is not None else []
        return self.run("make", "--no-print-directory", "load", "TARGET=redshift", f"LOCATION={location}", *limit,
                        check=check)  # fmt: skip

    def dbt(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(str(BIN / "dbt"), *args, "--target", "redshift")

    def upload(self, local_dir: Path, prefix: str, bucket: str | None = None) -> str:
        """`python -m sparkify.aws upload`, as a user would; returns the s3:// location."""
        location = f"s3://{bucket or self.bucket}/{prefix}"
        self.run(str(BIN / "python"), "-m", "sparkify.aws", "upload", str(local_dir), location)
        return location

    def query(self, sql: str) -> list[tuple]:
        connection = psycopg2.connect(self.dsn)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        finally:
            connection.close()

    def scalar(self, sql: str):
        return self.query(sql)[0][0]


@pytest.fixture(scope="session")
def postgres() -> str:
    """The PostgreSQL server behind the double, for the session; yields its URI. Its data lives
    outside pytest's private temporary tree, which the server's own user cannot enter."""
    parent = Path(tempfile.mkdtemp(prefix="sparkify-redshift-double-"))
    try:
        with postgres_server(parent / "pgdata") as uri:
            yield uri
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def s3_endpoint() -> str:
    with aws_emulator() as url:
        yield url


@pytest.fixture(scope="module")
def redshift_target_path(tmp_path_factory) -> Path:
    """dbt's target path for the Redshift runs, so that they share one partial parse."""
    return tmp_path_factory.mktemp("redshift-target")


def emulated_s3(endpoint: str, region: str = CLUSTER_REGION):
    return boto3.client("s3", endpoint_url=endpoint, region_name=region,
                        **{name.lower(): value for name, value in CREDENTIALS.items()})  # fmt: skip


@pytest.fixture
def redshift(postgres, s3_endpoint, redshift_target_path, tmp_path, request) -> RedshiftWarehouse:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    database = name.replace("-", "_")
    create_database(postgres, database)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(PROJECT_DIR / "profiles.example.yml", profiles / "profiles.yml")
    env = {
        **os.environ,
        **CREDENTIALS,
        "AWS_REGION": CLUSTER_REGION,
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        DSN_VARIABLE: postgres,
        "PYTHONPATH": os.pathsep.join([str(DOUBLE_DIR / "site"), str(DOUBLE_DIR.parent)]),
        "DBT_PROFILES_DIR": str(profiles),
        "DBT_TARGET_PATH": str(redshift_target_path),
        # What `make infra-env` writes from the Terraform outputs; the double ignores the host.
        "SPARKIFY_REDSHIFT_HOST": "sparkify.double.invalid",
        "SPARKIFY_REDSHIFT_PORT": "5439",
        "SPARKIFY_REDSHIFT_DATABASE": database,
        "SPARKIFY_REDSHIFT_CLUSTER_ID": "sparkify",
        "SPARKIFY_REDSHIFT_USER": "sparkify_admin",
        "SPARKIFY_REDSHIFT_IAM_ROLE_ARN": "arn:aws:iam::123456789012:role/sparkify-redshift-s3-read",
        "SPARKIFY_AWS_REGION": CLUSTER_REGION,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("SPARKIFY_SOURCE_REGION", None)
    s3 = emulated_s3(s3_endpoint)
    bucket = f"sparkify-{name}"[:63].strip("-")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": CLUSTER_REGION})
    return RedshiftWarehouse(psycopg2.extensions.make_dsn(postgres, dbname=database), env, bucket, s3)


def key_digest(values: list) -> str:
    text = "\n".join(sorted(value.isoformat() if hasattr(value, "isoformat") else str(value) for value in values))
    return hashlib.md5(text.encode()).hexdigest()


def test_the_real_sample_loads_and_builds_on_redshift_as_on_duckdb(redshift, real_sample, real_sample_build):
    location = redshift.upload(real_sample, "sample")

    load = redshift.make_load(location)
    build = redshift.dbt("build")

    assert f"Loaded staging_events from {location}: 30 files, 8,056 rows loaded, 0 rejected" in load.stdout
    assert "Loaded staging_songs" in load.stdout and "71 rows loaded, 0 rejected" in load.stdout
    assert "Completed successfully" in build.stdout and "ERROR=0" in build.stdout
    duckdb, _ = real_sample_build
    marts = {}
    for target, query in (("redshift", redshift.query), ("duckdb", duckdb.query)):
        for mart, key in MART_KEYS.items():
            keys = [row[0] for row in query(f"select {key} from analytics.{mart}")]
            marts.setdefault(mart, {})[target] = (len(keys), key_digest(keys))
    assert {mart: both["redshift"] for mart, both in marts.items()} == {
        mart: both["duckdb"] for mart, both in marts.items()
    }
    assert marts["songplays"]["redshift"][0] == 6820
