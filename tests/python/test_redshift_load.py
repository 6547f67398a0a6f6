"""The Redshift path, executed: `make load TARGET=redshift` and `dbt build --target redshift`
run dbt-redshift's real adapter against the test double (redshift_double/: PostgreSQL plus
COPY from the S3 emulator), and give what DuckDB gives."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import psycopg2.extensions
import pytest
import redshift_connector
import yaml
from aws_emulator import aws_emulator
from conftest import BIN, PROJECT_DIR
from redshift_double import DSN_VARIABLE, process_env
from redshift_double.connection import connect
from redshift_double.server import create_database
from test_data_test_watermarks import WATERMARKED_TESTS
from test_incremental import most_played_song_files, move
from test_load import count_lines, log_files

from sparkify import generate

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

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(command, cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def make_load(self, location: str, max_rejects: int | None = None, check: bool = True):
        limit = [f"MAX_REJECTS={max_rejects}"] if max_rejects is not None else []
        return self.run("make", "--no-print-directory", "load", "TARGET=redshift", f"LOCATION={location}", *limit,
                        check=check)  # fmt: skip

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


@pytest.fixture(scope="module")
def s3_endpoint() -> str:
    with aws_emulator() as url:
        yield url


@pytest.fixture(scope="module")
def redshift_target_path(tmp_path_factory) -> Path:
    """dbt's target path and profile for the Redshift runs, so that they share one partial parse."""
    path = tmp_path_factory.mktemp("redshift-target")
    (path / "profiles").mkdir()
    shutil.copy(PROJECT_DIR / "profiles.example.yml", path / "profiles/profiles.yml")
    return path


def emulated_s3(endpoint: str, region: str = CLUSTER_REGION):
    return boto3.client("s3", endpoint_url=endpoint, region_name=region,
                        **{name.lower(): value for name, value in CREDENTIALS.items()})  # fmt: skip


@pytest.fixture
def redshift(postgres, s3_endpoint, redshift_target_path, request) -> RedshiftWarehouse:
    """A fresh database and bucket. The database keeps one name, so that the profile, and so
    dbt's partial parse, stay the same from test to test."""
    create_database(postgres, DATABASE)
    digest = hashlib.md5(request.node.nodeid.encode()).hexdigest()[:6]
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-") + "-" + digest
    env = {
        **os.environ,
        **CREDENTIALS,
        "AWS_REGION": CLUSTER_REGION,
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **process_env(postgres),
        "DBT_PROFILES_DIR": str(redshift_target_path / "profiles"),
        "DBT_TARGET_PATH": str(redshift_target_path),
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
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": CLUSTER_REGION})
    return RedshiftWarehouse(psycopg2.extensions.make_dsn(postgres, dbname=DATABASE), env, bucket, s3)


def key_digest(values: list) -> str:
    text = "\n".join(sorted(value.isoformat() if hasattr(value, "isoformat") else str(value) for value in values))
    return hashlib.md5(text.encode()).hexdigest()


def test_the_real_sample_loads_and_builds_on_redshift_as_on_duckdb(
    redshift, redshift_target_path, real_sample, real_sample_build
):
    location = redshift.upload(real_sample, "sample")

    load = redshift.make_load(location)
    build = redshift.dbt("build")

    assert f"Loaded staging_events from {location}: 30 new or changed files of 30, 8,056 rows loaded, 0 rejected" in (
        load.stdout
    )
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
    # The build's on-run-end hook records the same passed watermarked tests on both targets.
    watermarked = "select test_id from analytics.data_test_watermarks order by test_id"
    assert [row[0] for row in redshift.query(watermarked)] == [row[0] for row in duckdb.query(watermarked)]
    assert len(duckdb.query(watermarked)) == len(WATERMARKED_TESTS)
    # The next run reads the watermarks back: the tests take only the rows loaded since.
    retest = redshift.dbt(
        "test", "--select", "assert_songplays_reconcile_with_nextsong_events", "unique_time_start_time"
    )
    assert retest.stdout.count(" PASS ") == 2, retest.stdout
    compiled = redshift_target_path / "compiled/sparkify/tests/assert_songplays_reconcile_with_nextsong_events.sql"
    assert "loaded_at > cast('" in compiled.read_text()


# What an incremental build can get wrong beyond the keys: a play's song and level, a user's
# level, a session's counts, a user's periods.
MART_ROWS = {
    "songplays": "songplay_id || '|' || coalesce(song_id, '-') || '|' || coalesce(artist_id, '-') || '|' || level",
    "users": "cast(user_id as varchar) || '|' || level",
    "songs": "song_id || '|' || title",
    "artists": "artist_id",
    "time": "start_time",
    "sessions": "cast(session_id as varchar) || '|' || cast(events as varchar) || '|' || cast(plays as varchar)",
    "user_level_periods": "cast(user_id as varchar) || '|' || cast(period_number as varchar) || '|' || level"
    " || '|' || cast(sessions as varchar) || '|' || cast(plays as varchar)",
}


def assert_same_marts(redshift, warehouse) -> None:
    for mart, row in MART_ROWS.items():
        rows = {target: sorted(str(value) for (value,) in query(f"select {row} from analytics.{mart}"))
                for target, query in (("redshift", redshift.query), ("duckdb", warehouse.query))}  # fmt: skip
        assert rows["redshift"] == rows["duckdb"], mart


def test_incremental_builds_give_the_marts_of_duckdb(redshift, warehouse, tmp_path):
    """A day and a song file arrive after the first build; then a played song is renamed and
    a day is sent again with fewer events: the incremental models' SQL, both the merges of what
    is new and the rebuilds after rows left staging, runs on the double and gives what DuckDB
    gives."""
    root, held_back = tmp_path / "raw", tmp_path / "held_back"
    generate.generate(root, users=20, days=3, songs=30, match_rate=0.9, seed=8)
    late = [sorted(root.glob("log_data/**/*.json"))[-1], sorted(root.glob("song_data/**/*.json"))[0]]
    for path in late:
        move(path, root, held_back)

    def build_both() -> None:
        redshift.make_load(redshift.upload(root, "raw"))
        redshift.dbt("build", "--exclude-resource-type", "unit_test")
        result = warehouse.pipeline(root)
        assert result.returncode == 0, result.stdout + result.stderr

    build_both()
    for path in late:
        move(held_back / path.relative_to(root), held_back, root)
    build_both()
    assert_same_marts(redshift, warehouse)
    [(renamed_song, renamed_file)] = most_played_song_files(warehouse, root, 1).items()
    song = json.loads(renamed_file.read_text())
    renamed_file.write_text(json.dumps({**song, "title": "A Title Nobody Played"}))
    resent_day = sorted(root.glob("log_data/**/*.json"))[0]
    resent_day.write_text("\n".join(resent_day.read_text().splitlines()[::2]) + "\n")
    build_both()

    assert_same_marts(redshift, warehouse)
    played = "select count(*) from analytics.songplays where song_id = '{}'"
    assert redshift.scalar(played.format(renamed_song)) == warehouse.scalar(played.format(renamed_song)) == 0
    nextsong_events = (
        "select count(*) from (select distinct userid, sessionid, iteminsession from raw.staging_events"
        " where page = 'NextSong') as plays"
    )
    assert redshift.scalar("select count(*) from analytics.songplays") == redshift.scalar(nextsong_events)
    assert warehouse.scalar("select count(*) from analytics.songplays where song_id is not null") > 50


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    generate.generate(root, users=10, days=2, songs=5, seed=5)
    return root


# One of each kind of bad line that both loaders reject, whatever their parser.
BAD_EVENT_LINES = [
    '{"ts": 1541105830796, "sessionId": ',
    '{"ts": "yesterday", "sessionId": 5}',
    "[1, 2]",
    "not json at all",
    '{"itemInSession": "first"}',
    '{"status": "ok"}',
    '{"length": "long"}',
]


def corrupt_first_log_file(dataset: Path) -> str:
    """Insert the bad lines after the first line of the first log file; returns its name."""
    log_file = sorted(dataset.glob("log_data/**/*.json"))[0]
    lines = log_file.read_text().splitlines()
    log_file.write_text("\n".join([lines[0], *BAD_EVENT_LINES, *lines[1:]]) + "\n")
    return log_file.name


LATEST_LOAD = "(select load_id from raw.load_audit order by finished_at desc limit 1)"


def load_outcome(result: subprocess.CompletedProcess, query) -> dict:
    """What a load leaves behind, in terms both targets share."""
    failure = re.search(r"Load failed for [^.]*\.", result.stdout)
    return {
        "succeeded": result.returncode == 0,
        "failure": failure and failure.group(0),
        "audit": [tuple(row) for row in query(
            "select source_table, rows_loaded, rows_rejected, max_rejects, status from raw.load_audit "
            f"where load_id = {LATEST_LOAD} order by source_table")],
        "staging": {table: query(f"select count(*) from raw.{table}")[0][0]
                    for table in ("staging_events", "staging_songs")},
        "rejects": sorted((table, Path(file_name).name, line) for table, file_name, line in query(
            "select source_table, file_name, line_number from raw.load_rejects")),
    }  # fmt: skip


def test_as_many_bad_lines_as_allowed_load_as_on_duckdb(redshift, warehouse, small_dataset):
    """max_rejects 7 accepts 7 bad lines, where COPY's MAXERROR 7 would abort at the 7th."""
    corrupt_first_log_file(small_dataset)
    location = redshift.upload(small_dataset, "corrupt")

    on_redshift = load_outcome(redshift.make_load(location, 7, check=False), redshift.query)
    on_duckdb = load_outcome(warehouse.load(small_dataset, 7, check=False), warehouse.query)

    assert on_redshift == on_duckdb
    assert on_redshift["succeeded"]
    assert len(on_redshift["rejects"]) == len(BAD_EVENT_LINES)


def test_a_source_past_the_threshold_fails_recorded_as_on_duckdb(redshift, warehouse, small_dataset):
    """The source is recorded as failed with its rejects and keeps its previous rows, and the
    other source still loads."""
    redshift.make_load(redshift.upload(small_dataset, "data"))
    warehouse.load(small_dataset)
    corrupt_first_log_file(small_dataset)
    location = redshift.upload(small_dataset, "data")

    on_redshift = load_outcome(redshift.make_load(location, 6, check=False), redshift.query)
    on_duckdb = load_outcome(warehouse.load(small_dataset, 6, check=False), warehouse.query)

    assert on_redshift == on_duckdb
    assert not on_redshift["succeeded"]
    assert on_redshift["failure"] == "Load failed for staging_events (7 rejected, at most 6 allowed)."
    assert [row[-1] for row in on_redshift["audit"]] == ["failed", "loaded"]


def test_a_threshold_at_redshifts_maxerror_limit_is_refused(redshift):
    args = f"{{location: 's3://{redshift.bucket}/data', max_rejects: 100000}}"
    result = redshift.dbt("run-operation", "load_raw", "--args", args, check=False)
    assert result.returncode != 0
    assert "max_rejects must be below 100000 (Redshift's MAXERROR limit), got 100000" in result.stdout


def test_a_bucket_in_another_region_loads(redshift, small_dataset):
    """AWS requires the objects to be in COPY's REGION: `make load` names the bucket's own."""
    bucket = f"{redshift.bucket}-eu"[-63:]
    europe = emulated_s3(redshift.env["AWS_ENDPOINT_URL_S3"], "eu-west-1")
    europe.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    location = redshift.upload(small_dataset, "data", bucket=bucket)

    result = redshift.make_load(location)

    assert "Loaded staging_events" in result.stdout and "Loaded staging_songs" in result.stdout
    assert redshift.query("select distinct status from raw.load_audit") == [("loaded",)]


def test_make_pipeline_copies_only_new_objects_from_a_bucket_in_another_region(redshift, small_dataset):
    """make pipeline checks the location as make load does: COPY names the bucket's region,
    and a second run finds nothing new in the ledger."""
    bucket = f"{redshift.bucket}-eu"[-63:]
    europe = emulated_s3(redshift.env["AWS_ENDPOINT_URL_S3"], "eu-west-1")
    europe.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    location = redshift.upload(small_dataset, "data", bucket=bucket)

    redshift.make_pipeline(location)
    again = redshift.make_pipeline(location)

    for source_table in ("staging_events", "staging_songs"):
        assert f"Loaded {source_table} from {location}: 0 new or changed files of " in again.stdout
    assert redshift.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))
    assert redshift.scalar("select count(*) from analytics.songplays") > 0


def test_a_prefix_with_a_quote_and_a_space_loads(redshift, small_dataset):
    location = redshift.upload(small_dataset, "it's here")

    redshift.make_load(location)

    assert redshift.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))


def test_a_full_refresh_copies_every_json_object_from_a_manifest_and_names_the_rest(redshift, small_dataset):
    """As on DuckDB, an object that is not .json is named and recorded, not read; and the
    ledger keeps every object's ETag, so the next load copies nothing."""
    location = redshift.upload(small_dataset, "data")
    not_json = "log_data/2018/11/2018-11-04-events.json.gz"
    redshift.s3.put_object(Bucket=redshift.bucket, Key=f"data/{not_json}", Body=b"\x1f\x8b")

    refreshed = redshift.run("make", "--no-print-directory", "load", "TARGET=redshift", f"LOCATION={location}",
                             "FULL_REFRESH=1")  # fmt: skip
    again = redshift.make_load(location)

    assert f"1 files not read ({not_json}), see load_rejects" in refreshed.stdout
    assert redshift.query("select file_name, reason from raw.load_rejects") == [
        (not_json, "not read: only .json files are loaded")
    ]
    assert "Loaded staging_events from " + location + ": 0 new or changed files of " in again.stdout
    assert redshift.scalar("select count(*) from raw.staging_events") == count_lines(log_files(small_dataset))


def test_a_reject_names_the_compacted_part_and_keeps_redshifts_raw_line(redshift, small_dataset):
    """Redshift logs raw_line as char(1024) with multibyte characters as periods, and the file
    and line of the compacted part that `make upload` wrote; the column's description says so."""
    song_file = sorted(small_dataset.glob("song_data/**/*.json"))[0]
    record = json.loads(song_file.read_text())
    record_text = json.dumps({**record, "title": "Café " * 300}, ensure_ascii=False)
    song_file.write_text(record_text)
    location = redshift.upload(small_dataset, "data")

    redshift.make_load(location, max_rejects=1)

    [(file_name, line, reason, raw_line)] = redshift.query(
        "select file_name, line_number, reason, raw_line from raw.load_rejects"
    )
    assert (file_name, line) == ("song_data/part-00000.json", 1)
    assert reason.startswith("title: String length exceeds DDL length (Caf. Caf. ")
    assert raw_line == record_text.replace("é", ".")[:1024].strip()
    sources = yaml.safe_load((PROJECT_DIR / "models/staging/_sparkify__sources.yml").read_text())
    rejects = next(table for table in sources["sources"][0]["tables"] if table["name"] == "load_rejects")
    described = next(column["description"] for column in rejects["columns"] if column["name"] == "raw_line")
    assert "char(1024)" in described and "compacted" in described


@pytest.fixture
def session(redshift, monkeypatch):
    """A connection of the double's, as dbt-redshift gets it, to the test's database."""
    for name in (DSN_VARIABLE, "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                 *CREDENTIALS):  # fmt: skip
        monkeypatch.setenv(name, redshift.env[name])
    connection = connect(database=DATABASE, region=CLUSTER_REGION)
    connection.autocommit = True
    connection.cursor().execute("create table lines (id integer, name varchar(8))")
    yield connection
    connection.close()


def put(redshift, key: str, text: str) -> str:
    redshift.s3.put_object(Bucket=redshift.bucket, Key=key, Body=text.encode())
    return f"s3://{redshift.bucket}/{key}"


def test_the_double_fails_a_copy_when_its_errors_reach_maxerror(redshift, session):
    source = put(redshift, "lines/a.json", '{"id": 1, "name": "one"}\n{"id": "x"}\n{"name": "much too long"}\n')
    cursor = session.cursor()
    copy = f"copy lines from '{source}' iam_role default format as json 'auto' maxerror "

    with pytest.raises(redshift_connector.ProgrammingError, match="Load into table 'lines' failed"):
        cursor.execute(copy + "2")
    failed_copy = cursor.execute("select pg_last_copy_id(), pg_last_copy_count()").fetchone()
    cursor.execute(copy + "3")
    loaded_copy = cursor.execute("select pg_last_copy_id(), pg_last_copy_count()").fetchone()

    assert failed_copy[1] == 0 and loaded_copy[1] == 1
    errors = cursor.execute(
        f"select query, line_number, trim(colname), err_code from stl_load_errors where query in "
        f"({failed_copy[0]}, {loaded_copy[0]}) order by 1, 2"
    ).fetchall()
    assert errors == [(failed_copy[0], 2, "id", 1207), (failed_copy[0], 3, "name", 1204),
                      (loaded_copy[0], 2, "id", 1207), (loaded_copy[0], 3, "name", 1204)]  # fmt: skip
    assert cursor.execute("select id, name from lines").fetchall() == [(1, "one")]


def test_the_double_logs_load_errors_outside_the_rolled_back_transaction(redshift, session):
    source = put(redshift, "lines/a.json", "not json\n")
    cursor = session.cursor()
    cursor.execute("begin")
    with pytest.raises(redshift_connector.ProgrammingError):
        cursor.execute(f"copy lines from '{source}' iam_role default format as json 'auto'")
    session.rollback()
    assert cursor.execute("select count(*) from stl_load_errors where query = pg_last_copy_id()").fetchone() == (1,)


def test_the_double_copies_a_manifests_entries_only(redshift, session):
    first = put(redshift, "lines/a.json", '{"id": 1}')
    put(redshift, "lines/b.json", '{"id": 2}')
    missing = f"s3://{redshift.bucket}/lines/gone.json"
    entries = [{"url": first, "mandatory": True}, {"url": missing, "mandatory": False}]
    manifest = put(redshift, "lines.manifest", json.dumps({"entries": entries}))
    cursor = session.cursor()

    cursor.execute(f"copy lines from '{manifest}' iam_role default format as json 'auto' manifest")
    assert cursor.execute("select id from lines").fetchall() == [(1,)]
    files = cursor.execute("select trim(filename) from stl_load_commits where query = pg_last_copy_id()").fetchall()
    assert files == [(first,)]

    entries[1]["mandatory"] = True
    manifest = put(redshift, "lines.manifest", json.dumps({"entries": entries}))
    with pytest.raises(redshift_connector.ProgrammingError, match="is mandatory, but the file is not found"):
        cursor.execute(f"copy lines from '{manifest}' iam_role default format as json 'auto' manifest")


def test_an_object_gone_from_the_location_keeps_its_rows_as_on_duckdb(redshift, warehouse, small_dataset):
    """A drop folder that holds only the new day: what was loaded stays, with its rejects."""
    corrupted = corrupt_first_log_file(small_dataset)
    location = redshift.upload(small_dataset, "data")
    redshift.make_load(location, len(BAD_EVENT_LINES))
    warehouse.load(small_dataset, len(BAD_EVENT_LINES))
    next(small_dataset.glob(f"log_data/**/{corrupted}")).unlink()
    redshift.upload(small_dataset, "data")

    on_redshift = load_outcome(redshift.make_load(location), redshift.query)
    on_duckdb = load_outcome(warehouse.load(small_dataset), warehouse.query)

    assert on_redshift == on_duckdb
    assert len(on_redshift["rejects"]) == len(BAD_EVENT_LINES)
    message = (
        "select message from raw.load_audit where source_table = 'staging_events' order by finished_at desc limit 1"
    )
    note = "1 loaded file gone from the location, its rows kept (FULL_REFRESH=1 drops them)"
    assert redshift.scalar(message) == warehouse.scalar(message) == note


def test_a_changed_object_reloads_the_source_and_says_which_rows_went(redshift, small_dataset):
    location = redshift.upload(small_dataset, "data")
    redshift.make_load(location)
    events_before = redshift.scalar("select count(*) from raw.staging_events")
    first, second = sorted(small_dataset.glob("log_data/**/*.json"))[:2]
    first.unlink()
    second.write_text("\n".join(second.read_text().splitlines()[:5]))
    redshift.upload(small_dataset, "data")

    reloaded = redshift.make_load(location)

    assert "1 loaded file gone from the location, its rows dropped: a changed object reloads the whole source" in (
        reloaded.stdout
    )
    lines = sum(len(path.read_text().splitlines()) for path in small_dataset.glob("log_data/**/*.json"))
    assert redshift.scalar("select count(*) from raw.staging_events") == lines
    assert redshift.query("select source_table, rows_deleted from raw.staging_deletions") == [
        ("staging_events", events_before)
    ]


def test_loading_again_copies_only_new_objects_from_a_manifest(redshift, small_dataset, tmp_path):
    """The ledger's keys and ETags against the bucket: a manifest of the new objects only, and
    nothing to copy when nothing is new."""
    location = redshift.upload(small_dataset, "data")
    redshift.make_load(location)
    events = redshift.scalar("select count(*) from raw.staging_events")
    extra_day = tmp_path / "extra"
    generate.generate(extra_day, users=4, days=1, songs=2, start=generate.dt.date(2018, 12, 1), seed=3)
    [new_log] = list(extra_day.glob("log_data/**/*.json"))
    key = f"data/{new_log.relative_to(extra_day)}"
    redshift.s3.upload_file(str(new_log), redshift.bucket, key)

    again = redshift.make_load(location)
    manifest = json.loads(
        redshift.s3.get_object(Bucket=redshift.bucket, Key="data/_manifests/staging_events.manifest")["Body"].read()
    )
    nothing_new = redshift.make_load(location)

    assert manifest == {"entries": [{"url": f"s3://{redshift.bucket}/{key}", "mandatory": True}]}
    assert "1 new or changed files of 3" in again.stdout
    new_rows = len(new_log.read_text().splitlines())
    assert redshift.scalar("select count(*) from raw.staging_events") == events + new_rows
    assert "0 new or changed files of 3, 0 rows loaded" in nothing_new.stdout
    assert redshift.scalar("select count(*) from raw.staging_events") == events + new_rows
    ledger = redshift.query(
        "select file_name, file_version from raw.loaded_files where source_table = 'staging_events'"
    )
    etags = {obj["Key"][5:]: obj["ETag"].strip('"') for obj in redshift.s3.list_objects_v2(
        Bucket=redshift.bucket, Prefix="data/log_data/")["Contents"]}  # fmt: skip
    assert dict(ledger) == etags
