"""The Redshift test double itself (redshift_double/): COPY from the S3 emulator and the load
logs, checked against what the AWS documentation says Redshift does, through the connection
that dbt-redshift gets from the double."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions
import pytest
import redshift_connector
from support.aws_emulator import bucket_slug, emulated_s3, emulator_env
from support.redshift import CLUSTER_REGION
from support.redshift_double import DSN_VARIABLE
from support.redshift_double.connection import connect
from support.redshift_double.server import create_database

DATABASE = "redshift_double"

# The columns and types of the SYS views, as the AWS pages SYS_LOAD_HISTORY,
# SYS_LOAD_ERROR_DETAIL and SYS_LOAD_DETAIL list them (SYS_LOAD_DETAIL gives no type for
# splits_scanned; the double says integer).
SYS_COLUMNS = {
    "sys_load_history": [
        ("user_id", "integer"), ("query_id", "bigint"), ("transaction_id", "bigint"), ("session_id", "integer"),
        ("database_name", "text"), ("status", "text"), ("table_name", "text"),
        ("start_time", "timestamp without time zone"), ("end_time", "timestamp without time zone"),
        ("duration", "bigint"), ("data_source", "text"), ("file_format", "text"), ("loaded_rows", "bigint"),
        ("loaded_bytes", "bigint"), ("source_file_count", "integer"), ("source_file_bytes", "bigint"),
        ("file_count_scanned", "integer"), ("file_bytes_scanned", "bigint"), ("error_count", "bigint"),
        ("copy_job_id", "bigint"),
    ],
    "sys_load_error_detail": [
        ("user_id", "integer"), ("query_id", "bigint"), ("transaction_id", "bigint"), ("session_id", "integer"),
        ("database_name", "character(64)"), ("table_id", "integer"), ("start_time", "timestamp without time zone"),
        ("file_name", "character(256)"), ("line_number", "bigint"), ("column_name", "character(127)"),
        ("column_type", "character(10)"), ("column_length", "character(10)"), ("position", "integer"),
        ("error_code", "integer"), ("error_message", "character(512)"),
    ],
    "sys_load_detail": [
        ("user_id", "integer"), ("query_id", "integer"), ("file_name", "character(256)"),
        ("bytes_scanned", "integer"), ("lines_scanned", "integer"), ("record_time", "timestamp without time zone"),
        ("splits_scanned", "integer"), ("start_time", "timestamp without time zone"),
        ("end_time", "timestamp without time zone"), ("file_etag", "character(256)"),
        ("file_last_modified", "timestamp without time zone"),
    ],
}  # fmt: skip


@dataclass
class Double:
    """A fresh database on the double's server and a bucket on the S3 emulator."""

    dsn: str
    bucket: str
    s3: object

    def put(self, key: str, text: str) -> str:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=text.encode())
        return f"s3://{self.bucket}/{key}"

    def query(self, sql: str, args=None) -> list[tuple]:
        """Read on a connection of the test's own, as another session would."""
        connection = psycopg2.connect(self.dsn)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchall()
        finally:
            connection.close()


@pytest.fixture
def double(postgres, s3_endpoint, monkeypatch, request) -> Double:
    """The environment of a dbt process the tests start on the double: the double's server,
    the S3 emulator, the cluster's region and dummy credentials."""
    create_database(postgres, DATABASE)
    for name, value in {**emulator_env(s3_endpoint, CLUSTER_REGION), DSN_VARIABLE: postgres}.items():
        monkeypatch.setenv(name, value)
    s3 = emulated_s3(s3_endpoint, CLUSTER_REGION)
    bucket = f"double-{bucket_slug(request.node.nodeid)}"[:63]
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": CLUSTER_REGION})
    return Double(psycopg2.extensions.make_dsn(postgres, dbname=DATABASE), bucket, s3)


def open_session():
    """A connection of the double's, as dbt-redshift gets it."""
    connection = connect(database=DATABASE, region=CLUSTER_REGION)
    connection.autocommit = True
    return connection


@pytest.fixture
def session(double):
    connection = open_session()
    connection.cursor().execute("create table lines (id integer, name varchar(8))")
    yield connection
    connection.close()


def fetch(cursor, sql: str) -> list[tuple]:
    return cursor.execute(sql).fetchall()


def test_the_double_fails_a_copy_when_its_errors_reach_maxerror(double, session):
    source = double.put("lines/a.json", '{"id": 1, "name": "one"}\n{"id": "x"}\n{"name": "much too long"}\n')
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


def test_the_double_logs_load_errors_outside_the_rolled_back_transaction(double, session):
    source = double.put("lines/a.json", "not json\n")
    cursor = session.cursor()
    cursor.execute("begin")
    with pytest.raises(redshift_connector.ProgrammingError):
        cursor.execute(f"copy lines from '{source}' iam_role default format as json 'auto'")
    session.rollback()
    assert cursor.execute("select count(*) from stl_load_errors where query = pg_last_copy_id()").fetchone() == (1,)
    # The SYS views too: the aborted COPY and its error stay after the rollback.
    assert fetch(cursor, "select status, error_count from sys_load_history where session_id = pg_backend_pid()") == [
        ("aborted", 1)
    ]
    assert fetch(cursor, "select error_code from sys_load_error_detail where session_id = pg_backend_pid()") == [
        (1216,)
    ]


def test_the_double_copies_a_manifests_entries_only(double, session):
    first = double.put("lines/a.json", '{"id": 1}')
    double.put("lines/b.json", '{"id": 2}')
    missing = f"s3://{double.bucket}/lines/gone.json"
    entries = [{"url": first, "mandatory": True}, {"url": missing, "mandatory": False}]
    manifest = double.put("lines.manifest", json.dumps({"entries": entries}))
    cursor = session.cursor()

    cursor.execute(f"copy lines from '{manifest}' iam_role default format as json 'auto' manifest")
    assert cursor.execute("select id from lines").fetchall() == [(1,)]
    files = cursor.execute("select trim(filename) from stl_load_commits where query = pg_last_copy_id()").fetchall()
    assert files == [(first,)]

    entries[1]["mandatory"] = True
    manifest = double.put("lines.manifest", json.dumps({"entries": entries}))
    with pytest.raises(redshift_connector.ProgrammingError, match="is mandatory, but the file is not found"):
        cursor.execute(f"copy lines from '{manifest}' iam_role default format as json 'auto' manifest")
    # An aborted COPY that read no line is in SYS_LOAD_HISTORY all the same.
    assert fetch(
        cursor, "select status, data_source from sys_load_history where session_id = pg_backend_pid() order by 1"
    ) == [("aborted", manifest), ("completed", manifest)]


def test_each_sys_view_has_its_documented_columns_and_rows_after_a_copy_with_one_bad_line(double, session):
    body = '{"id": 1, "name": "one"}\n{"id": "x", "name": "bad"}\n{"id": 3, "name": "three"}\n'
    source = double.put("lines/part-0.json", body)
    etag = hashlib.md5(body.encode()).hexdigest()
    cursor = session.cursor()
    pid, database = cursor.execute("select pg_backend_pid(), current_database()").fetchone()

    cursor.execute(f"copy lines from 's3://{double.bucket}/lines/' iam_role default format as json 'auto' maxerror 5")

    for view, columns in SYS_COLUMNS.items():
        described = double.query(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum",
            [view],
        )
        assert described == columns, view
    [history] = double.query(
        "select query_id, transaction_id, session_id, database_name, status, table_name, data_source, file_format, "
        "loaded_rows, loaded_bytes, source_file_count, source_file_bytes, file_count_scanned, file_bytes_scanned, "
        "error_count, copy_job_id, duration >= 0 and end_time >= start_time from sys_load_history"
    )
    query_id = history[0]
    loaded_bytes = sum(len(line.encode()) for line in body.splitlines() if '"x"' not in line)
    assert history[1] is not None
    assert history[2:] == (pid, database, "completed", "lines", f"s3://{double.bucket}/lines/", "json", 2,
                           loaded_bytes, 1, len(body), 1, len(body), 1, 0, True)  # fmt: skip
    [error] = double.query(
        "select query_id, transaction_id, session_id, trim(database_name), table_id, trim(file_name), line_number, "
        "trim(column_name), trim(column_type), trim(column_length), position, error_code, trim(error_message), "
        "start_time = (select start_time from sys_load_history) from sys_load_error_detail"
    )
    assert error[:4] == (query_id, history[1], pid, database)
    assert error[4] == double.query("select 'lines'::regclass::oid::integer")[0][0]
    assert error[5:12] == (source, 2, "id", "int4", "0", 0, 1207)
    assert error[12].startswith("Invalid digit, Value 'x'") and error[13]
    [detail] = double.query(
        "select query_id, trim(file_name), bytes_scanned, lines_scanned, splits_scanned, trim(file_etag), "
        "file_last_modified is not null, end_time >= start_time, record_time is not null from sys_load_detail"
    )
    assert detail == (query_id, source, len(body), 3, 1, etag, True, True, True)

    # A COPY that fails at MAXERROR: aborted, nothing loaded, its error logged, no file detail.
    with pytest.raises(redshift_connector.ProgrammingError, match="Check 'sys_load_error_detail'"):
        cursor.execute(f"copy lines from '{source}' iam_role default format as json 'auto' maxerror 1")
    aborted = double.query(
        "select query_id, status, loaded_rows, loaded_bytes, error_count from sys_load_history where status = 'aborted'"
    )
    assert [row[1:] for row in aborted] == [("aborted", 0, 0, 1)]
    assert double.query(f"select count(*) from sys_load_error_detail where query_id = {aborted[0][0]}") == [(1,)]
    assert double.query(f"select count(*) from sys_load_detail where query_id = {aborted[0][0]}") == [(0,)]


def test_sys_query_ids_are_not_pg_last_copy_id_and_a_session_finds_its_copy_by_its_pid(double, session):
    source = double.put("lines/a.json", '{"id": 1}\n{"id": "x"}\n')
    copy = f"copy lines from '{source}' iam_role default format as json 'auto' maxerror 5"
    cursor = session.cursor()
    cursor.execute(copy)
    other = open_session()
    try:
        other.cursor().execute(copy)  # another session's COPY, later
    finally:
        other.close()
    cursor.execute(copy)

    for view in ("sys_load_history", "sys_load_error_detail", "sys_load_detail"):
        assert fetch(cursor, f"select count(*) from {view} where query_id = pg_last_copy_id()") == [(0,)], view
    assert fetch(cursor, "select count(*) from stl_load_errors where query = pg_last_copy_id()") == [(1,)]
    assert fetch(cursor, "select count(*) from stl_load_commits where query = pg_last_copy_id()") == [(1,)]
    assert fetch(cursor, "select count(distinct session_id), count(*) from sys_load_history") == [(2, 3)]
    # What the project does: its session's latest COPY, by pg_backend_pid() and start_time.
    latest = (
        "(select query_id from sys_load_history where session_id = pg_backend_pid() order by start_time desc limit 1)"
    )
    [(loaded_rows, error_count)] = fetch(
        cursor, f"select loaded_rows, error_count from sys_load_history where query_id = {latest}"
    )
    assert (loaded_rows, error_count) == (cursor.execute("select pg_last_copy_count()").fetchone()[0], 1)
    assert fetch(cursor, f"select count(*) from sys_load_error_detail where query_id = {latest}") == [(1,)]
    assert fetch(
        cursor, "select count(*) from sys_load_history where session_id = pg_backend_pid() and query_id > " + latest
    ) == [(0,)]


def test_a_json_array_is_a_record_with_a_jsonpaths_file_and_an_error_with_auto(double, session):
    paths = double.put("paths.json", json.dumps({"jsonpaths": ["$['artist']", "$['song']"]}))
    index_paths = double.put("index_paths.json", json.dumps({"jsonpaths": ["$[0]", "$[1]"]}))
    arrays = double.put("data/arrays.json", '[1, "one"]\n')
    scalars = double.put("other/scalars.json", '"a string"\n42\n[2, "two"]\n')
    cursor = session.cursor()

    cursor.execute(f"copy lines from '{arrays}' iam_role default format as json '{paths}'")
    assert fetch(cursor, "select id, name from lines") == [(None, None)]
    assert fetch(cursor, "select pg_last_copy_count()") == [(1,)]
    cursor.execute("delete from lines")
    cursor.execute(f"copy lines from '{arrays}' iam_role default format as json '{index_paths}'")
    assert fetch(cursor, "select id, name from lines") == [(1, "one")]
    cursor.execute("delete from lines")
    # AWS: "If your data files use arrays, you must specify a JSONPaths file".
    cursor.execute(f"copy lines from '{scalars}' iam_role default format as json 'auto' maxerror 5")
    errors = fetch(cursor, "select line_number, err_code from stl_load_errors where query = pg_last_copy_id()")
    assert errors == [(1, 1216), (2, 1216), (3, 1216)]
    # A string or a number at the root is no record, with or without JSONPaths.
    cursor.execute(f"copy lines from '{scalars}' iam_role default format as json '{index_paths}' maxerror 5")
    errors = fetch(cursor, "select line_number, err_code from stl_load_errors where query = pg_last_copy_id()")
    assert errors == [(1, 1216), (2, 1216)]
    assert fetch(cursor, "select id, name from lines") == [(2, "two")]


def test_nan_and_infinity_are_not_json(double, session):
    body = (
        '{"id": NaN}\n{"id": Infinity}\n{"id": -Infinity}\n{"id": 4, "name": NaN}\n'
        '{"id": 5,\n "name": Infinity\n}\n{"id": 6, "name": "six"}\n'
    )
    source = double.put("lines/a.json", body)
    cursor = session.cursor()

    cursor.execute(f"copy lines from '{source}' iam_role default format as json 'auto' maxerror 10")

    errors = fetch(
        cursor, "select line_number, err_code, trim(err_reason) from stl_load_errors where query = pg_last_copy_id()"
    )
    assert [(line, code) for line, code, _ in errors] == [(1, 1216), (2, 1216), (3, 1216), (4, 1216), (7, 1216)]
    assert all(reason.startswith("Invalid JSON") for _, _, reason in errors)
    assert fetch(cursor, "select id, name from lines") == [(6, "six")]


def test_an_integer_out_of_its_types_range_is_load_error_1222(double, session):
    body = (
        '{"id": 2147483648}\n{"id": -2147483649}\n{"id": "99999999999"}\n{"id": 2147483647}\n'
        '{"id": -2147483648, "big": 9223372036854775807}\n{"id": 1, "big": 9223372036854775808}\n'
    )
    source = double.put("lines/a.json", body)
    cursor = session.cursor()
    cursor.execute("alter table lines add column big bigint")

    cursor.execute(f"copy lines from '{source}' iam_role default format as json 'auto' maxerror 10")

    errors = fetch(
        cursor, "select line_number, trim(colname), err_code from stl_load_errors where query = pg_last_copy_id()"
    )
    assert sorted(errors) == [(1, "id", 1222), (2, "id", 1222), (3, "id", 1222), (6, "big", 1222)]
    assert fetch(cursor, "select id, big from lines order by id") == [
        (-2147483648, 9223372036854775807), (2147483647, None)
    ]  # fmt: skip


def test_a_json_number_boolean_object_or_array_loads_into_varchar_as_its_text(double, session):
    values = [3.50, 123456789012345678901234567890, -0.0001, True, False, {"a": [1, 2.5]}, [1, "x", None]]
    source = double.put("texts/a.json", "".join(f'{{"value": {json.dumps(value)}}}\n' for value in values))
    cursor = session.cursor()
    cursor.execute("create table texts (value varchar(64))")

    cursor.execute(f"copy texts from '{source}' iam_role default format as json 'auto'")

    loaded = [value for (value,) in fetch(cursor, "select value from texts")]
    assert loaded[:5] == ["3.5", "123456789012345678901234567890", "-0.0001", "true", "false"]
    assert [json.loads(text) for text in loaded[5:]] == values[5:]
