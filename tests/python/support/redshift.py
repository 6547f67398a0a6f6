"""A database on the Redshift double and a bucket on the S3 emulator, with the environment
of a user who ran `make infra-env` against them; and how the tests compare its marts."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.extensions

from support import preloaded
from support.aws_emulator import bucket_slug, emulated_s3, emulator_env
from support.project import BIN, PROJECT_DIR
from support.redshift_double import process_env
from support.redshift_double.server import create_database

CLUSTER_REGION = "us-west-2"
DATABASE = "sparkify"
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
        result = preloaded.run(["dbt", *args, "--target", "redshift"], self.env, PROJECT_DIR)
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

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
    name = bucket_slug(test_id)
    env = {
        **os.environ,
        **emulator_env(s3_endpoint, CLUSTER_REGION),
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
    s3 = emulated_s3(s3_endpoint, CLUSTER_REGION)
    bucket = f"sparkify-{name}"[:63].strip("-")
    # The project's own bucket, which Terraform makes: the only one a load writes to.
    manifest_bucket = f"load-{name}"[:63].strip("-")
    for created in (bucket, manifest_bucket):
        s3.create_bucket(Bucket=created, CreateBucketConfiguration={"LocationConstraint": CLUSTER_REGION})
    env["SPARKIFY_MANIFEST_LOCATION"] = f"s3://{manifest_bucket}/manifests"
    return RedshiftWarehouse(psycopg2.extensions.make_dsn(postgres, dbname=DATABASE), env, bucket, s3, manifest_bucket)


def bad_event_lines(event: dict) -> list[tuple[str, str | None]]:
    """One of each kind of bad line, made from a real event, each with the start of the
    reason that the contract's checks give it on both targets; None for a line that a
    target's JSON parser refuses, each in its own words (Redshift's reads an array as a
    record, which then has no known key)."""

    def changed(**values) -> str:
        return json.dumps({**event, **values})

    return [
        ('{"ts": 1541105830796, "sessionId": ', None),
        ("not json at all", None),
        ("[1, 2]", None),
        (changed(length=1.0).replace("1.0", "NaN"), None),
        (changed(ts="yesterday"), "ts: 'yesterday' is not a whole number"),
        (changed(itemInSession="first"), "itemInSession: 'first' is not a whole number"),
        (changed(status="ok"), "status: 'ok' is not a whole number"),
        (changed(length="long"), "length: 'long' is not a number"),
        (changed(userId="guest-7f3a"), "userId: 'guest-7f3a' is not a whole number"),
        (changed(ts=1543795200005000000), "ts: '1543795200005000000' is outside 946684800000 to "),
        (changed(itemInSession=3.5), "itemInSession: '3.5' is not a whole number"),
        ("{}", "no known key"),
        ('{"type": "heartbeat", "at": 1543795200005}', "no known key"),
        (changed(level="gold"), "level: 'gold' is not one of free, paid"),
    ]


def corrupt_first_log_file(dataset: Path) -> tuple[str, list[tuple[str, str | None]]]:
    """Insert the bad lines after the first line of the first log file; returns its name and them."""
    log_file = sorted(dataset.glob("log_data/**/*.json"))[0]
    lines = log_file.read_text().splitlines()
    bad = bad_event_lines(next(json.loads(line) for line in lines if json.loads(line)["userId"]))
    log_file.write_text("\n".join([lines[0], *(line for line, _ in bad), *lines[1:]]) + "\n")
    return log_file.name, bad


LATEST_LOAD = "(select load_id from raw.load_audit order by finished_at desc limit 1)"


def load_outcome(result: subprocess.CompletedProcess, query) -> dict:
    """What a load leaves behind, in terms both targets share."""
    failure = re.search(r"Load failed for [^.]*\.", result.stderr)
    return {
        "succeeded": result.returncode == 0,
        "failure": failure and failure.group(0),
        "audit": [tuple(row) for row in query(
            "select source_table, rows_loaded, rows_rejected, max_rejects, status from raw.load_audit "
            f"where load_id = {LATEST_LOAD} order by source_table")],
        "staging": {table: query(f"select count(*) from raw.{table}")[0][0]
                    for table in ("staging_events", "staging_songs")},
        "rejects": query("select count(*) from raw.load_rejects")[0][0],
    }  # fmt: skip


def deny_writes(s3, bucket: str) -> None:
    """A bucket policy that refuses every PutObject, as a bucket of someone else's does; the
    S3 emulator enforces it."""
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
