"""Redshift's COPY from S3, for JSON, emulated over PostgreSQL and the S3 emulator.

Follows the AWS documentation of COPY (FROM, MANIFEST, REGION, FORMAT AS JSON with
'auto', 'auto ignorecase' or a JSONPaths file, MAXERROR), of STL_LOAD_ERRORS,
STL_LOAD_COMMITS, PG_LAST_COPY_ID and PG_LAST_COPY_COUNT, and its load error codes.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

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

    def read(self, url: str) -> bytes | None:
        bucket, key = split_url(url)
        self.check_region(bucket)
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

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


def records(text: str):
    """Each root-level JSON value of a file, with its last line and text; or the error of a line
    that does not parse, after which reading resumes at the next line."""
    decoder = json.JSONDecoder()
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
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            yield line, text[position:line_end], error
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
            raise ValueError((1204, f"Overflow, Value '{digits}', Type: {REASON_TYPE_NAMES[base]}", 0))
        return number
    if base in ("double precision", "real"):
        if isinstance(value, bool):
            raise ValueError((1208, "Invalid digit, Value 't', Pos 0, Type: Double", 0))
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError((1208, f"Invalid digit, Value '{str(value)[:1]}', Pos 0, Type: Double", 0)) from None
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
    copy = Copy.parse(statement)
    all_columns = table_columns(cursor, copy.table)
    by_name = {column.name: column for column in all_columns}
    unknown = [name for name in copy.columns or [] if name not in by_name]
    if unknown:
        raise CopyFailed(f'column "{unknown[0]}" of relation "{copy.table}" does not exist')
    columns = [by_name[name] for name in copy.columns] if copy.columns else all_columns

    source = Source(copy.region or connection.cluster_region)
    urls = source.objects(copy)
    if copy.json.lower() in ("auto", "auto ignorecase"):
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

    rows, commits = [], []
    for url in urls:
        body = source.read(url) or b""
        text = body.decode("utf-8", errors="replace")
        loaded_before, errors_before = len(rows), len(copy.errors)
        for line, raw, value in records(text):
            if isinstance(value, json.JSONDecodeError):
                copy.errors.append(LoadError(url, line, raw, 1216, f"Invalid JSON: {value.msg}", position=value.pos))
                continue
            if not isinstance(value, dict):
                copy.errors.append(LoadError(url, line, raw, 1216, "Invalid JSON: the record is not an object"))
                continue
            row = []
            for column, get in zip(columns, getters, strict=True):
                field_value = get(value)
                try:
                    row.append(converted(field_value, column))
                except ValueError as problem:
                    code, reason, position = problem.args[0]
                    shown = field_value if isinstance(field_value, str) else json.dumps(field_value)
                    copy.errors.append(LoadError(url, line, raw, code, reason, column, shown, position))
                    break
            else:
                rows.append(row)
        commits.append((url, text.count("\n") + (not text.endswith("\n") and bool(text)), len(rows) - loaded_before,
                        len(copy.errors) - errors_before))  # fmt: skip

    query_id = log_copy(connection, cursor, copy, commits)
    failed = copy.errors and len(copy.errors) >= copy.maxerror
    connection.last_copy = (query_id, 0 if failed else len(rows))
    if failed:
        name = copy.table.split(".")[-1].strip('"')
        raise CopyFailed(f"Load into table '{name}' failed. Check 'sys_load_error_detail' system table for details.")
    if rows:
        names = ", ".join(f'"{column.name}"' for column in columns)
        data = io.StringIO("".join("\t".join(map(copy_text, row)) + "\n" for row in rows))
        cursor.copy_expert(f"copy {copy.table} ({names}) from stdin", data)
    return len(rows)


def copy_text(value) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def log_copy(connection, cursor, copy: Copy, commits: list[tuple[str, int, int, int]]) -> int:
    """Write the COPY's errors (and, when it succeeds, its files) to the STL tables on a
    connection of their own, so they stay when the session's transaction rolls back."""
    cursor.execute("select %s::regclass::oid::integer, pg_backend_pid()", [copy.table])
    table_id, session = cursor.fetchone()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    succeeded = not (copy.errors and len(copy.errors) >= copy.maxerror)
    log = psycopg2.connect(connection.raw.dsn)
    log.autocommit = True
    try:
        with log.cursor() as writer:
            writer.execute("select nextval('redshift_double_query_ids')")
            query_id = writer.fetchone()[0]
            writer.executemany(
                "insert into stl_load_errors values "
                "(100, 0, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, 0)",
                [
                    (table_id, now, session, query_id, error.file_name[:256], error.line_number,
                     error.column.name if error.column else "",
                     LOG_TYPE_NAMES.get(error.column.type.split("(")[0], "") if error.column else "",
                     str(error.column.max_bytes or 0) if error.column else "0", error.position,
                     redshift_text(error.raw_line, 1024), redshift_text(error.raw_field_value, 1024),
                     error.err_code, redshift_text(error.err_reason, 100))
                    for error in copy.errors
                ],
            )  # fmt: skip
            if succeeded:
                writer.executemany(
                    "insert into stl_load_commits values (100, %s, 0, %s, %s, 0, %s, %s, %s, 1, 'Json', 0, 0, 0)",
                    [(query_id, url[:256], url[:256], lines, errors, now) for url, lines, _, errors in commits],
                )
    finally:
        log.close()
    return query_id
