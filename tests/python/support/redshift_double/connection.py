"""What dbt-redshift gets from `redshift_connector.connect`: a connection to PostgreSQL that
rewrites or emulates the Redshift SQL that PostgreSQL lacks."""

from __future__ import annotations

import os
import re

import psycopg2
import psycopg2.extensions
import redshift_connector

from . import DSN_VARIABLE
from .copy_from_s3 import CopyFailed, is_copy_from_s3, run_copy

LEADING_COMMENTS = re.compile(r"^\s*(?:/\*.*?\*/\s*|--[^\n]*\n\s*)*", re.S)
# The first argument of DATEDIFF and DATEADD is a bare date part on Redshift, a column name to PostgreSQL.
DATE_PART_ARGUMENT = re.compile(
    r"\b((?:datediff|dateadd)\s*\(\s*)(year|quarter|month|week|day|hour|minute|second)\s*,", re.I
)
LAST_COPY_ID = re.compile(r"\bpg_last_copy_id\s*\(\s*\)", re.I)
LAST_COPY_COUNT = re.compile(r"\bpg_last_copy_count\s*\(\s*\)", re.I)
# Physical-design clauses of CREATE TABLE that PostgreSQL has no use for.
TABLE_ATTRIBUTES = re.compile(
    r"\b(?:diststyle\s+(?:all|even|key|auto)\b"
    r"|distkey\s*\(\s*[\w\"]+\s*\)"
    r"|(?:compound\s+|interleaved\s+)?sortkey\s*\([^)]*\)"
    r"|sortkey\s+auto\b"
    r"|backup\s+(?:yes|no)\b"
    r"|encode\s+\w+"
    r"|distkey\b"
    r"|sortkey\b)",
    re.I,
)


def connect(**kwargs) -> Connection:
    """redshift_connector.connect's stand-in: the profile's database on the double's server."""
    dsn = os.environ[DSN_VARIABLE]
    connection = psycopg2.connect(dsn, dbname=kwargs["database"])
    return Connection(connection, cluster_region=kwargs.get("region"))


def translated(error: psycopg2.Error) -> redshift_connector.Error:
    """The error redshift_connector would raise: dbt-redshift reads the message from args[0]['M']."""
    diagnostic = error.diag
    fields = {"S": diagnostic.severity or "ERROR", "C": error.pgcode or "XX000",
              "M": diagnostic.message_primary or str(error).strip()}  # fmt: skip
    kind = redshift_connector.OperationalError if isinstance(error, psycopg2.OperationalError) else None
    return (kind or redshift_connector.ProgrammingError)(fields)


def rewritten(statement: str, last_copy: tuple[int, int]) -> str:
    statement = DATE_PART_ARGUMENT.sub(r"\1'\2',", statement)
    statement = LAST_COPY_ID.sub(str(last_copy[0]), statement)
    statement = LAST_COPY_COUNT.sub(str(last_copy[1]), statement)
    if re.match(r"create\s+(?:temp\w*\s+|local\s+temp\w*\s+)?table\b", LEADING_COMMENTS.sub("", statement), re.I):
        statement = TABLE_ATTRIBUTES.sub("", statement)
    return statement


class Connection:
    def __init__(self, connection: psycopg2.extensions.connection, cluster_region: str | None):
        self._connection = connection
        self.cluster_region = cluster_region
        # (query id, rows loaded) of this session's last COPY: Redshift says -1 and 0 before any.
        self.last_copy = (-1, 0)

    @property
    def autocommit(self) -> bool:
        return self._connection.autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self._connection.autocommit = value

    @property
    def raw(self) -> psycopg2.extensions.connection:
        return self._connection

    def cursor(self) -> Cursor:
        return Cursor(self)

    # As redshift_connector does: COMMIT always, ROLLBACK when the server reports a transaction,
    # also in autocommit mode, where dbt-redshift opens transactions with an explicit BEGIN.
    def commit(self) -> None:
        with self._connection.cursor() as cursor:
            cursor.execute("commit")

    def rollback(self) -> None:
        if self._connection.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            with self._connection.cursor() as cursor:
                cursor.execute("rollback")

    def close(self) -> None:
        self._connection.close()


class Cursor:
    def __init__(self, connection: Connection):
        self._connection = connection
        self._cursor = connection.raw.cursor()
        self._rowcount: int | None = None

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def execute(self, operation: str, args=None) -> Cursor:
        self._rowcount = None
        try:
            statement = LEADING_COMMENTS.sub("", operation)
            if is_copy_from_s3(statement):
                try:
                    self._rowcount = run_copy(self._connection, self._cursor, statement)
                except CopyFailed as failure:
                    # Fail inside the server, so the session's transaction aborts as on Redshift.
                    self._cursor.execute("select redshift_double_fail(%s)", [str(failure)])
            else:
                self._cursor.execute(rewritten(operation, self._connection.last_copy), args)
        except psycopg2.Error as error:
            raise translated(error) from error
        return self

    def executemany(self, operation: str, param_sets) -> Cursor:
        try:
            self._cursor.executemany(rewritten(operation, self._connection.last_copy), param_sets)
        except psycopg2.Error as error:
            raise translated(error) from error
        return self

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount if self._rowcount is None else self._rowcount

    def fetchone(self):
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchmany(self, size: int | None = None):
        if not self._cursor.description:
            return []
        return self._cursor.fetchmany(size) if size else self._cursor.fetchmany()

    def fetchall(self):
        return self._cursor.fetchall() if self._cursor.description else []

    def close(self) -> None:
        self._cursor.close()
