"""Redshift's COPY from S3, for JSON, emulated over PostgreSQL and the S3 emulator.

Follows the AWS documentation of COPY (FROM, MANIFEST, REGION, FORMAT AS JSON with
'auto', 'auto ignorecase' or a JSONPaths file, MAXERROR), of STL_LOAD_ERRORS,
STL_LOAD_COMMITS, SYS_LOAD_HISTORY, SYS_LOAD_ERROR_DETAIL, SYS_LOAD_DETAIL, PG_LAST_COPY_ID
and PG_LAST_COPY_COUNT, and its load error codes ("Load error reference").
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
import psycopg2
from botocore.exceptions import ClientError

# A Redshift string literal: a quote is doubled, and a backslash escapes the next character.
STRING = r"'(?:[^'\\]|''|\\.)*'"
COPY_STATEMENT = re.compile(
    rf"^copy\s+(?P<table>[\w.\"]+)\s*(?:\((?P<columns>[^)]*)\))?\s*from\s+(?P<source>{STRING})(?P<options>.*?);?\s*$",
    re.I | re.S,
)
OPTIONS = {
    "iam_role": re.compile(rf"iam_role\s+(?:default|{STRING})", re.I),
    "json": re.compile(rf"(?:format\s+(?:as\s+)?)?json\s+(?:as\s+)?(?P<value>{STRING})", re.I),
    "region": re.compile(rf"region\s+(?:as\s+)?(?P<value>{STRING})", re.I),
    "maxerror": re.compile(r"maxerror\s+(?:as\s+)?(?P<value>\d+)", re.I),
    "compupdate": re.compile(r"compupdate\s+(?:on|off|true|false|preset)", re.I),
    "statupdate": re.compile(r"statupdate\s+(?:on|off|true|false)", re.I),
    "manifest": re.compile(r"manifest\b", re.I),
}
JSON_PATH_STEP = re.compile(r"\.(\w+)|\['([^']*)'\]|\[\"([^\"]*)\"\]|\[(\d+)\]")
INTEGER_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
# Type names as STL_LOAD_ERRORS shows them, and as its error texts spell them.
LOG_TYPE_NAMES = {"character varying": "varchar", "character": "char", "text": "text", "smallint": "int2",
                  "integer": "int4", "bigint": "int8", "double precision": "float8", "real": "float4"}  # fmt: skip
REASON_TYPE_NAMES = {"smallint": "Short", "integer": "Integer", "bigint": "Long", "double precision": "Double",
                     "real": "Float"}  # fmt: skip
MISSING = object()


class CopyFailed(Exception):
    """The COPY fails as a whole, with Redshift's message."""


def utc_now() -> datetime:
    """A timestamp as Redshift's system tables hold them: UTC, without a time zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def string_value(literal: str) -> str:
    """The text of a Redshift string literal (STRING)."""
    return re.sub(r"''|\\(.)", lambda escape: escape.group(1) or "'", literal[1:-1], flags=re.S)


def is_copy_from_s3(statement: str) -> bool:
    """Whether a statement, without its leading comments, is a COPY from S3."""
    return bool(re.match(r"copy\s[^;]*?\bfrom\s+'s3://", statement, re.I | re.S))


@dataclass
class Column:
    name: str
    type: str  # PostgreSQL's format_type, such as "character varying(32)" or "bigint"
    max_bytes: int | None = None


@dataclass
class LoadError:
    file_name: str
    line_number: int
    raw_line: str
    err_code: int
    err_reason: str
    column: Column | None = None
    raw_field_value: str = ""
    position: int = 0


@dataclass
class FileScan:
    """One object a COPY read, for STL_LOAD_COMMITS and SYS_LOAD_DETAIL."""

    url: str
    size: int
    lines: int
    loaded: int
    errors: int
    started: datetime
    ended: datetime
    etag: str = ""
    last_modified: datetime | None = None


@dataclass
class Session:
    """What the system tables say of the session that runs a COPY, read on its own connection."""

    pid: int
    transaction_id: int
    database: str
    table_id: int
    table_name: str


@dataclass
class Copy:
    table: str
    columns: list[str] | None
    source: str
    json: str = "auto"
    region: str | None = None
    maxerror: int = 0
    manifest: bool = False
    errors: list[LoadError] = field(default_factory=list)

    @classmethod
    def parse(cls, statement: str) -> Copy:
        match = COPY_STATEMENT.match(statement.strip())
        if not match:
            raise CopyFailed("redshift double: cannot parse this COPY: " + " ".join(statement.split())[:200])
        columns = (
            [name.strip().strip('"').lower() for name in match["columns"].split(",")] if match["columns"] else None
        )
        copy = cls(match["table"], columns, string_value(match["source"]))
        options = match["options"].strip()
        while options:
            for name, pattern in OPTIONS.items():
                option = pattern.match(options)
                if option:
                    value = option.groupdict().get("value")
                    if name == "maxerror":
                        copy.maxerror = int(value)
                    elif name == "manifest":
                        copy.manifest = True
                    elif name in ("json", "region"):
                        setattr(copy, name, string_value(value))
                    options = options[option.end() :].strip()
                    break
            else:
                raise CopyFailed(f"redshift double: COPY option not emulated: {options[:60]}")
        return copy

    @property
    def uses_jsonpaths(self) -> bool:
        return self.json.lower() not in ("auto", "auto ignorecase")


@dataclass
class S3Object:
    body: bytes
    etag: str
    last_modified: datetime | None


def s3_client():
    return boto3.client("s3")


def split_url(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key


class Source:
    """Reads the objects a COPY names, refusing a bucket outside the COPY's region as S3 does."""

    def __init__(self, region: str | None):
        self.s3 = s3_client()
        self.region = region
        self.checked: set[str] = set()

    def check_region(self, bucket: str) -> None:
        if bucket in self.checked:
            return
        try:
            location = self.s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
        except ClientError as error:
            raise CopyFailed(f"S3ServiceException:{error.response['Error'].get('Message', error)}") from error
        if self.region and location != self.region:
            raise CopyFailed(
                "S3ServiceException:The bucket you are attempting to access must be addressed using the specified "
                "endpoint. Please send all future requests to this endpoint.,Status 301,Error PermanentRedirect,"
                f"Bucket {bucket} is in {location}, not {self.region}"
            )
        self.checked.add(bucket)

    def fetch(self, url: str) -> S3Object | None:
        bucket, key = split_url(url)
        self.check_region(bucket)
        try:
            response = self.s3.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        modified = response.get("LastModified")
        return S3Object(response["Body"].read(), response.get("ETag", "").strip('"'),
                        modified.astimezone(UTC).replace(tzinfo=None) if modified else None)  # fmt: skip

    def read(self, url: str) -> bytes | None:
        fetched = self.fetch(url)
        return fetched.body if fetched else None

    def objects(self, copy: Copy) -> list[str]:
        """The URLs to load: every object under the FROM prefix, or the manifest's entries."""
        if copy.manifest:
            return self.manifest_entries(copy.source)
        bucket, prefix = split_url(copy.source)
        self.check_region(bucket)
        urls = [
            f"s3://{bucket}/{obj['Key']}"
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for obj in page.get("Contents", [])
            if not (obj["Key"].endswith("/") and obj["Size"] == 0)
        ]
        if not urls:
            raise CopyFailed(f"The specified S3 prefix '{prefix}' does not exist")
        return urls

    def manifest_entries(self, url: str) -> list[str]:
        body = self.read(url)
        if body is None:
            raise CopyFailed(f"S3ServiceException:The specified key does not exist.,Status 404,Manifest {url}")
        try:
            entries = json.loads(body)["entries"]
        except (ValueError, KeyError, TypeError) as error:
            raise CopyFailed(f"Manifest file is not in correct json format: {url}") from error
        urls = []
        for entry in entries:
            bucket, key = split_url(entry["url"])
            self.check_region(bucket)
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
            except ClientError as error:
                if entry.get("mandatory", False):
                    raise CopyFailed(
                        f"Manifest file entry {entry['url']} is mandatory, but the file is not found"
                    ) from error
                continue
            urls.append(entry["url"])
        return urls


def json_path_getter(path: str):
    """A function reading one JSONPath expression ($['key'], $.key, $[0], nested) from a record."""
    if not path.startswith("$"):
        raise CopyFailed(f"Invalid JSONPath format: {path}")
    steps, position = [], 1
    for step in JSON_PATH_STEP.finditer(path, 1):
        if step.start() != position:
            break
        dotted, quoted, double_quoted, index = step.groups()
        steps.append(int(index) if index is not None else (dotted or quoted or double_quoted))
        position = step.end()
    if position != len(path) or not steps:
        raise CopyFailed(f"Invalid JSONPath format: {path}")

    def get(record):
        value = record
        for step in steps:
            in_array = isinstance(step, int) and isinstance(value, list) and step < len(value)
            if not (in_array or (isinstance(step, str) and isinstance(value, dict) and step in value)):
                return MISSING
            value = value[step]
        return value

    return get


@dataclass
class BadRecord:
    """A record that is not JSON: load error 1216, "Input line is not valid"."""

    reason: str
    position: int = 0


class NotJson(ValueError):
    """NaN, Infinity and -Infinity: Python's json module reads them, JSON (and Redshift) has none."""


def refuse_constant(name: str):
    raise NotJson(f"Invalid JSON: {name} is not a JSON value")


JSON = json.JSONDecoder(parse_constant=refuse_constant)
# Only to find where a record with NaN or Infinity in it ends.
PERMISSIVE_JSON = json.JSONDecoder()


def records(text: str):
    """Each root-level JSON value of a file, with its last line and text; or a BadRecord. After a
    record that does not parse, reading resumes at the next line; after a well-formed one that
    holds NaN or Infinity, after the record, whose last line the error names."""
    position, line = 0, 1
    while True:
        start = position
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        line += text.count("\n", start, position)
        if position >= len(text):
            return
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        try:
            value, end = JSON.raw_decode(text, position)
        except NotJson as refused:
            try:
                _, end = PERMISSIVE_JSON.raw_decode(text, position)
            except json.JSONDecodeError as error:
                yield line, text[position:line_end], BadRecord(f"Invalid JSON: {error.msg}", error.pos)
                position = line_end
                continue
            value = BadRecord(str(refused))
        except json.JSONDecodeError as error:
            yield line, text[position:line_end], BadRecord(f"Invalid JSON: {error.msg}", error.pos)
            position = line_end
            continue
        last_line = line + text.count("\n", position, end)
        yield last_line, text[position:end], value
        line, position = last_line, end


def converted(value, column: Column):
    """The value for a column, or raise ValueError((code, reason, position)) as COPY logs it."""
    if value is None or value is MISSING:
        return None
    base = column.type.split("(")[0]
    if base in ("character varying", "character", "text"):
        text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else None
        if text is None:
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if column.max_bytes is not None and len(text.encode()) > column.max_bytes:
            raise ValueError((1204, "String length exceeds DDL length", 0))
        return text
    if base in INTEGER_RANGES:
        text = value if isinstance(value, str) else json.dumps(value)
        digits = text.strip()
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", digits):
            bad = next((i for i, c in enumerate(digits) if not (c.isdigit() or (i == 0 and c in "+-"))), 0)
            kind = REASON_TYPE_NAMES[base]
            raise ValueError((1207, f"Invalid digit, Value '{digits[bad : bad + 1]}', Pos {bad}, Type: {kind}", bad))
        number = int(digits)
        if not -INTEGER_RANGES[base] <= number < INTEGER_RANGES[base]:
            # The Load error reference: 1222, "Integer value overflow error" (1204 is the general
            # "Input data exceeded the acceptable range for the data type").
            raise ValueError((1222, f"Overflow, Value '{digits}', Type: {REASON_TYPE_NAMES[base]}", 0))
        return number
    if base in ("double precision", "real"):
        if isinstance(value, bool):
            raise ValueError((1208, "Invalid digit, Value 't', Pos 0, Type: Double", 0))
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        except (TypeError, ValueError):
            raise ValueError((1208, f"Invalid digit, Value '{str(value)[:1]}', Pos 0, Type: Double", 0)) from None
        if not isinstance(value, str) and not math.isfinite(number):
            # A number too large for a double (NaN and Infinity never get here: they are not JSON).
            raise ValueError((1204, f"Overflow, Value '{str(value)[:40]}', Type: Double", 0))
        return number
    raise CopyFailed(f"redshift double: COPY into a {column.type} column is not emulated ({column.name})")


def table_columns(cursor, table: str) -> list[Column]:
    cursor.execute(
        "select attname, format_type(atttypid, atttypmod), "
        "case when atttypid in (1042, 1043) and atttypmod > 0 then atttypmod - 4 end "
        "from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum",
        [table],
    )
    return [Column(*row) for row in cursor.fetchall()]


def redshift_text(text: str, size: int) -> str:
    """A char(n) value of Redshift's log tables: multibyte characters become periods."""
    return "".join(c if ord(c) < 128 else "." for c in text)[:size]


def run_copy(connection, cursor, statement: str) -> int:
    """Run one COPY on the connection's session; returns the rows loaded."""
    started = utc_now()
    copy = Copy.parse(statement)
    session = session_of(cursor, copy.table)
    try:
        rows, loaded_bytes, files = read_rows(connection, cursor, copy)
    except CopyFailed:
        # Failed before any line was loaded (S3, REGION, JSONPaths, manifest): SYS_LOAD_HISTORY
        # still has the COPY, aborted; the STL tables and pg_last_copy_id() do not change.
        log_copy(connection, session, copy, started, None, 0, 0, succeeded=False)
        raise

    failed = bool(copy.errors) and len(copy.errors) >= copy.maxerror
    problem = None
    if rows and not failed:
        names = ", ".join(f'"{column}"' for column in rows[0])
        data = io.StringIO("".join("\t".join(map(copy_text, row.values())) + "\n" for row in rows))
        try:
            cursor.copy_expert(f"copy {copy.table} ({names}) from stdin", data)
        except psycopg2.Error as error:
            problem = error
    succeeded = not failed and problem is None
    loaded = len(rows) if succeeded else 0
    query_id = log_copy(connection, session, copy, started, files, loaded, loaded_bytes if succeeded else 0,
                        succeeded=succeeded)  # fmt: skip
    connection.last_copy = (query_id, loaded)
    if problem is not None:
        raise problem
    if failed:
        raise CopyFailed(
            f"Load into table '{session.table_name}' failed. Check 'sys_load_error_detail' system table for details."
        )
    return loaded


def session_of(cursor, table: str) -> Session:
    """The session's process id (pg_backend_pid(), the session_id the SYS views log), its
    transaction, database, and the table's id and name."""
    cursor.execute(
        "select pg_backend_pid(), txid_current(), current_database(), oid::integer, relname "
        "from pg_class where oid = %s::regclass",
        [table],
    )
    return Session(*cursor.fetchone())


def read_rows(connection, cursor, copy: Copy) -> tuple[list[dict], int, list[FileScan]]:
    """The rows to load (column name to value), their bytes in the source, and the files read;
    each line that cannot load is appended to copy.errors."""
    all_columns = table_columns(cursor, copy.table)
    by_name = {column.name: column for column in all_columns}
    unknown = [name for name in copy.columns or [] if name not in by_name]
    if unknown:
        raise CopyFailed(f'column "{unknown[0]}" of relation "{copy.table}" does not exist')
    columns = [by_name[name] for name in copy.columns] if copy.columns else all_columns

    source = Source(copy.region or connection.cluster_region)
    urls = source.objects(copy)
    if not copy.uses_jsonpaths:
        ignore_case = copy.json.lower() == "auto ignorecase"

        def getter(column: Column):
            return lambda record: next(
                (v for k, v in record.items() if (k.lower() if ignore_case else k) == column.name), MISSING
            )

        getters = [getter(column) for column in columns]
    else:
        paths_body = source.read(copy.json)
        if paths_body is None:
            raise CopyFailed(f"S3ServiceException:The specified key does not exist.,Status 404,JSONPaths {copy.json}")
        paths = json.loads(paths_body)["jsonpaths"]
        if len(paths) != len(columns):
            raise CopyFailed(
                "Number of jsonpaths and the number of columns should match. "
                f"JSONPath size: {len(paths)}, Number of columns in table or column list: {len(columns)}"
            )
        getters = [json_path_getter(path) for path in paths]

    rows, loaded_bytes, files = [], 0, []
    for url in urls:
        file_started = utc_now()
        fetched = source.fetch(url) or S3Object(b"", "", None)
        text = fetched.body.decode("utf-8", errors="replace")
        loaded_before, errors_before = len(rows), len(copy.errors)
        for line, raw, value in records(text):
            problem = record_problem(value, copy)
            if problem:
                copy.errors.append(LoadError(url, line, raw, 1216, problem.reason, position=problem.position))
                continue
            row = {}
            for column, get in zip(columns, getters, strict=True):
                field_value = get(value)
                try:
                    row[column.name] = converted(field_value, column)
                except ValueError as error:
                    code, reason, position = error.args[0]
                    shown = field_value if isinstance(field_value, str) else json.dumps(field_value)
                    copy.errors.append(LoadError(url, line, raw, code, reason, column, shown, position))
                    break
            else:
                rows.append(row)
                loaded_bytes += len(raw.encode())
        files.append(FileScan(url, len(fetched.body), text.count("\n") + (not text.endswith("\n") and bool(text)),
                              len(rows) - loaded_before, len(copy.errors) - errors_before, file_started, utc_now(),
                              fetched.etag, fetched.last_modified))  # fmt: skip
    return rows, loaded_bytes, files


def record_problem(value, copy: Copy) -> BadRecord | None:
    """Why a root-level value is no record. AWS: the data is "a set of objects or arrays", and
    arrays need a JSONPaths file ("If your data files use arrays, you must specify a JSONPaths
    file"); with one, a path that names a key of an array finds nothing, so its column is NULL."""
    if isinstance(value, BadRecord):
        return value
    if isinstance(value, list) and not copy.uses_jsonpaths:
        return BadRecord(f"Invalid JSON: an array is a record only with a JSONPaths file, not with '{copy.json}'")
    if not isinstance(value, dict | list):
        return BadRecord("Invalid JSON: the record is not an object or an array")
    return None


def copy_text(value) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def log_copy(
    connection,
    session: Session,
    copy: Copy,
    started: datetime,
    files: list[FileScan] | None,
    loaded_rows: int,
    loaded_bytes: int,
    succeeded: bool,
) -> int | None:
    """Log a COPY as Redshift does, on a connection of its own, so that the rows stay when the
    session's transaction rolls back: its errors in STL_LOAD_ERRORS and, when it succeeds, its
    files in STL_LOAD_COMMITS, under the query id that pg_last_copy_id() returns; and, under a
    query id of the SYS views' own, the COPY in SYS_LOAD_HISTORY, its errors in
    SYS_LOAD_ERROR_DETAIL and, when it succeeds, its files in SYS_LOAD_DETAIL. files is None
    for a COPY that failed before reading a line: it is in SYS_LOAD_HISTORY only. Returns the
    STL query id, or None when there is none."""
    ended = utc_now()
    log = psycopg2.connect(connection.raw.dsn)
    log.autocommit = True
    try:
        with log.cursor() as writer:
            query_id = None
            if files is not None:
                writer.execute("select nextval('redshift_double_query_ids')")
                query_id = writer.fetchone()[0]
                write_stl(writer, session, copy, started, files, query_id, succeeded)
            writer.execute("select nextval('redshift_double_sys_query_ids')")
            sys_query_id = writer.fetchone()[0]
            scanned = files or []
            writer.execute(
                "insert into sys_load_history values "
                "(100, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'json', %s, %s, %s, %s, %s, %s, %s, 0)",
                (sys_query_id, session.transaction_id, session.pid, session.database,
                 "completed" if succeeded else "aborted", session.table_name, started, ended,
                 (ended - started) // timedelta(microseconds=1), copy.source, loaded_rows, loaded_bytes,
                 len(scanned), sum(file.size for file in scanned), len(scanned), sum(file.size for file in scanned),
                 len(copy.errors)),
            )  # fmt: skip
            writer.executemany(
                "insert into sys_load_error_detail values "
                "(100, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (sys_query_id, session.transaction_id, session.pid, session.database[:64], session.table_id,
                     started, error.file_name[:256], error.line_number, *column_fields(error), error.position,
                     error.err_code, redshift_text(error.err_reason, 512))
                    for error in copy.errors
                ],
            )  # fmt: skip
            if succeeded:
                writer.executemany(
                    "insert into sys_load_detail values (100, %s, %s, %s, %s, %s, 1, %s, %s, %s, %s)",
                    [(sys_query_id, file.url[:256], file.size, file.lines, ended, file.started, file.ended,
                      file.etag[:256], file.last_modified) for file in scanned],
                )  # fmt: skip
    finally:
        log.close()
    return query_id


def column_fields(error: LoadError) -> tuple[str, str, str]:
    """The column's name, type and length, as the load error tables show them."""
    if not error.column:
        return "", "", "0"
    return (error.column.name, LOG_TYPE_NAMES.get(error.column.type.split("(")[0], ""),
            str(error.column.max_bytes or 0))  # fmt: skip


def write_stl(
    writer, session: Session, copy: Copy, started: datetime, files: list[FileScan], query_id: int, succeeded: bool
) -> None:
    writer.executemany(
        "insert into stl_load_errors values "
        "(100, 0, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, 0)",
        [
            (session.table_id, started, session.pid, query_id, error.file_name[:256], error.line_number,
             *column_fields(error), error.position, redshift_text(error.raw_line, 1024),
             redshift_text(error.raw_field_value, 1024), error.err_code, redshift_text(error.err_reason, 100))
            for error in copy.errors
        ],
    )  # fmt: skip
    if succeeded:
        writer.executemany(
            "insert into stl_load_commits values (100, %s, 0, %s, %s, 0, %s, %s, %s, 1, 'Json', 0, 0, 0)",
            [(query_id, file.url[:256], file.url[:256], file.lines, file.errors, file.ended) for file in files],
        )
