"""A database on the Redshift double and a bucket on the S3 emulator, with the environment
of a user who ran `make infra-env` against them; and how the tests compare its marts."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import psycopg2.extensions

from support.project import BIN, PROJECT_DIR
from support.redshift_double import process_env
from support.redshift_double.server import create_database

CLUSTER_REGION = "us-west-2"
DATABASE = "sparkify"
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
    manifest_bucket: str

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(command, cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def make_load(self, location: str, max_rejects: int | None = None, check: bool = True, *more: str):
        limit = [f"MAX_REJECTS={max_rejects}"] if max_rejects is not None else []
        return self.run("make", "--no-print-directory", "load", "TARGET=redshift", f"LOCATION={location}", *limit,
                        *more, check=check)  # fmt: skip

    def keys(self, bucket: str | None = None) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=bucket or self.bucket).get("Contents", [])
        return sorted(obj["Key"] for obj in listed)

    def make_pipeline(self, location: str) -> subprocess.CompletedProcess:
        return self.run("make", "--no-print-directory", "pipeline", "TARGET=redshift", f"LOCATION={location}")

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(str(BIN / "dbt"), *args, "--target", "redshift", check=check)

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


def emulated_s3(endpoint: str, region: str = CLUSTER_REGION):
    return boto3.client("s3", endpoint_url=endpoint, region_name=region,
                        **{name.lower(): value for name, value in CREDENTIALS.items()})  # fmt: skip


def key_digest(values: list) -> str:
    text = "\n".join(sorted(value.isoformat() if hasattr(value, "isoformat") else str(value) for value in values))
    return hashlib.md5(text.encode()).hexdigest()


def profile_and_target(path: Path) -> Path:
    """A profile and dbt target path for the Redshift runs of a session, so that they share one
    partial parse, apart from the DuckDB runs'."""
    (path / "profiles").mkdir()
    shutil.copy(PROJECT_DIR / "profiles.example.yml", path / "profiles/profiles.yml")
    return path


def make_redshift_warehouse(postgres: str, s3_endpoint: str, target_path: Path, test_id: str) -> RedshiftWarehouse:
    """A fresh database and buckets named after the test. The database keeps one name, so that
    the profile, and so dbt's partial parse, stay the same from test to test."""
    create_database(postgres, DATABASE)
    digest = hashlib.md5(test_id.encode()).hexdigest()[:6]
    name = re.sub(r"[^a-z0-9]+", "-", test_id.rsplit("::", 1)[-1].lower())[:40].strip("-") + "-" + digest
    env = {
        **os.environ,
        **CREDENTIALS,
        "AWS_REGION": CLUSTER_REGION,
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **process_env(postgres),
        "DBT_PROFILES_DIR": str(target_path / "profiles"),
        "DBT_TARGET_PATH": str(target_path),
        "DBT_LOG_PATH": str(target_path / "logs"),
        # What `make infra-env` writes from the Terraform outputs; the double ignores the host.
        "SPARKIFY_REDSHIFT_HOST": "sparkify.double.invalid",
        "SPARKIFY_REDSHIFT_PORT": "5439",
        "SPARKIFY_REDSHIFT_DATABASE": DATABASE,
        "SPARKIFY_REDSHIFT_CLUSTER_ID": "sparkify",
        "SPARKIFY_REDSHIFT_USER": "sparkify_admin",
        "SPARKIFY_REDSHIFT_IAM_ROLE_ARN": "arn:aws:iam::123456789012:role/sparkify-redshift-s3-read",
        "SPARKIFY_AWS_REGION": CLUSTER_REGION,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("SPARKIFY_SOURCE_REGION", None)
    s3 = emulated_s3(s3_endpoint)
    bucket = f"sparkify-{name}"[:63].strip("-")
    # The project's own bucket, which Terraform makes: the only one a load writes to.
    manifest_bucket = f"load-{digest}-{name}"[:63].strip("-")
    for created in (bucket, manifest_bucket):
        s3.create_bucket(Bucket=created, CreateBucketConfiguration={"LocationConstraint": CLUSTER_REGION})
    env["SPARKIFY_MANIFEST_LOCATION"] = f"s3://{manifest_bucket}/manifests"
    return RedshiftWarehouse(psycopg2.extensions.make_dsn(postgres, dbname=DATABASE), env, bucket, s3, manifest_bucket)
