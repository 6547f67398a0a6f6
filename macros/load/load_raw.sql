{#- Entry point of `make load`: brings the staging tables up to date with the raw JSON at
    `location`.

    dbt run-operation load_raw --args '{location: ../shared/data/sparkify-sample}'

    By default only new or changed files are read (raw.loaded_files is the ledger of what
    was loaded); a changed file replaces the rows that came from it. full_refresh reloads
    everything. Each source is loaded in one transaction that also writes its audit row,
    its ledger rows and its rejects, so the bookkeeping never disagrees with the data. A
    source with more rejects than `max_rejects` keeps its previous rows; the operation
    fails once every source has been tried. Every row of one load carries the load's start
    as loaded_at, the watermark of the incremental models. On Redshift, `make load` passes
    `manifests`: per source, the COPY manifest of the objects new since the ledger. On
    DuckDB, it passes `listing` for a local folder: a CSV of its files (sparkify/load.py),
    which spares the load listing them itself. -#}
{% macro load_raw(location=none, max_rejects=none, full_refresh=false, manifests=none, listing=none) %}
  {%- set schema = var('raw_schema') -%}
  {%- set started_at = modules.datetime.datetime.utcnow() -%}
  {%- set location = (location or var('raw_location')) | string -%}
  {%- set max_rejects = var('max_rejects') if max_rejects is none else max_rejects -%}
  {%- set problem = load_argument_problem(location, max_rejects, full_refresh) -%}
  {% do create_load_tables(schema) %}
  {%- if problem -%}
    {% do record_failed_load(schema, location, max_rejects, full_refresh, problem, started_at) %}
    {{ exceptions.raise_compiler_error(problem) }}
  {%- endif -%}

  {% set failed = [] %}
  {% for source_table, table in raw_staging_tables().items() %}
    {% set previous_location = last_loaded_location(schema, source_table) %}
    {% set moved = previous_location is not none and previous_location != location.rstrip('/') %}
    {% if moved and not full_refresh %}
      {% do log(source_table ~ ': the location changed from ' ~ previous_location ~ ', so every file is read again, '
          ~ 'and the next build rebuilds the marts from what is there', info=true) %}
    {% endif %}
    {% set load = {
        'schema': schema, 'source_table': source_table, 'table': table, 'location': location.rstrip('/'),
        'max_rejects': max_rejects | int, 'full_refresh': full_refresh or moved,
        'started_at': modules.datetime.datetime.utcnow(), 'loaded_at': started_at,
        'manifest': (manifests or {}).get(source_table), 'listing': listing} %}
    {% set result = adapter.dispatch('load_staging_table', 'sparkify')(load) %}
    {% do log(load_summary(load, result), info=true) %}
    {% if result.status == 'failed' %}
      {% do failed.append(source_table ~ ' (' ~ result.message ~ ')') %}
    {% endif %}
  {% endfor %}

  {% if failed %}
    {{ exceptions.raise_compiler_error(
        "Load failed for " ~ failed | join(', ') ~ ". Those tables keep their previous contents. "
        ~ "See " ~ schema ~ ".load_rejects for each rejected line with its file, line and reason, "
        ~ "or allow more with `make load MAX_REJECTS=N`.") }}
  {% endif %}
{% endmacro %}


{#- The location of the source's last successful load, or none. The ledger's paths are
    relative to it: files from another location are other files, so a load from a new
    location rereads everything rather than adding to rows it cannot match. -#}
{% macro last_loaded_location(schema, source_table) %}
  {%- set rows = run_query(
      "select location from " ~ schema ~ ".load_audit where source_table = '" ~ source_table
      ~ "' and status = 'loaded' order by finished_at desc limit 1").rows -%}
  {{ return(rows[0][0] if rows else none) }}
{% endmacro %}


{#- Why the arguments cannot be used, or none. -#}
{% macro load_argument_problem(location, max_rejects, full_refresh) %}
  {%- if max_rejects is not number and not (max_rejects is string and max_rejects.isdigit()) -%}
    {{ return("max_rejects must be a whole number, 0 or more, got '" ~ max_rejects ~ "'") }}
  {%- elif max_rejects | int < 0 -%}
    {{ return("max_rejects must be 0 or more, got " ~ max_rejects) }}
  {%- elif max_rejects | int >= 100000 -%}
    {{ return("max_rejects must be below 100000 (Redshift's MAXERROR limit), got " ~ max_rejects) }}
  {%- elif full_refresh is not sameas true and full_refresh is not sameas false -%}
    {{ return("full_refresh must be true or false, got '" ~ full_refresh ~ "'") }}
  {%- elif not location.strip() -%}
    {{ return("location is empty: pass a directory or an s3:// prefix holding log_data/ and song_data/") }}
  {%- endif -%}
  {{ return(none) }}
{% endmacro %}


{#- A SQL string literal of any text: quotes doubled, and on adapters that read
    backslashes as escapes, backslashes doubled too, so that a value never becomes SQL. -#}
{% macro sql_string(value) %}
  {{ return(adapter.dispatch('sql_string', 'sparkify')(value)) }}
{% endmacro %}

{% macro default__sql_string(value) -%}
  {{ return("'" ~ (value | string).replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro redshift__sql_string(value) -%}
  {{ return("'" ~ (value | string).replace("\\", "\\\\").replace("'", "''") ~ "'") }}
{%- endmacro %}


{#- The insert of the load's staging_deletions row, as SQL text, for the adapter's load
    transaction: `rows_deleted`, a query of the number of rows that leave, run before they
    do; no row when none leaves. -#}
{% macro staging_deletion_insert_sql(load, rows_deleted) -%}
insert into {{ load.schema }}.staging_deletions (source_table, load_id, loaded_at, rows_deleted)
select * from (
    select
        '{{ load.source_table }}' as source_table,
        '{{ invocation_id }}' as load_id,
        cast('{{ load.loaded_at.isoformat(sep=' ') }}' as timestamp) as loaded_at,
        ({{ rows_deleted }}) as rows_deleted
) as deletion
where rows_deleted > 0
{%- endmacro %}


{#- The insert of one load_audit row, as SQL text, for the adapter's load transaction. -#}
{% macro load_audit_insert_sql(load, result) -%}
insert into {{ load.schema }}.load_audit (
    load_id, source_table, location, full_refresh, files_found, files_loaded, files_skipped,
    rows_loaded, rows_rejected, max_rejects, status, message, started_at, finished_at
)
values (
    '{{ invocation_id }}',
    '{{ load.source_table }}',
    {{ sql_string(load.location) }},
    {{ 'true' if load.full_refresh else 'false' }},
    {{ result.files_found }},
    {{ result.files_loaded }},
    {{ result.files_skipped }},
    {{ result.rows_loaded }},
    {{ result.rows_rejected }},
    {{ load.max_rejects if load.max_rejects is not none else 'null' }},
    '{{ result.status }}',
    {{ sql_string(result.message[:4000]) if result.message else 'null' }},
    cast('{{ load.started_at.isoformat(sep=" ") }}' as timestamp),
    cast('{{ modules.datetime.datetime.utcnow().isoformat(sep=" ") }}' as timestamp)
)
{%- endmacro %}


{#- The failed audit rows of a load that `make load` or `make pipeline` could not start,
    for a reason found before dbt ran (an s3:// location without its sources, a file that
    cannot be listed):

    dbt run-operation record_load_failure --args '{location: s3://bucket/x, message: ...}' -#}
{% macro record_load_failure(location, message, max_rejects=none, full_refresh=false) %}
  {%- set schema = var('raw_schema') -%}
  {% do create_load_tables(schema) %}
  {% do record_failed_load(schema, location | string, var('max_rejects') if max_rejects is none else max_rejects,
                           full_refresh, message | string, modules.datetime.datetime.utcnow()) %}
{% endmacro %}


{#- A load that cannot start still leaves a trace: one failed audit row per source. -#}
{% macro record_failed_load(schema, location, max_rejects, full_refresh, message, started_at) %}
  {% call statement('record_failed_load') %}
    {%- for source_table in raw_staging_tables() %}
    {{ load_audit_insert_sql(
        {'schema': schema, 'source_table': source_table, 'location': location, 'full_refresh': full_refresh is sameas true,
         'max_rejects': max_rejects if max_rejects is number else none, 'started_at': started_at},
        {'files_found': 0, 'files_loaded': 0, 'files_skipped': 0, 'rows_loaded': 0, 'rows_rejected': 0,
         'status': 'failed', 'message': message}) }};
    {%- endfor %}
  {% endcall %}
  {% do adapter.commit() %}
{% endmacro %}


{% macro load_summary(load, result) %}
  {%- set elapsed = modules.datetime.datetime.utcnow() - load.started_at -%}
  {%- set line = load.source_table ~ ' from ' ~ load.location ~ ': '
      ~ '{:,}'.format(result.files_loaded) ~ ' new or changed files of ' ~ '{:,}'.format(result.files_found) ~ ', '
      ~ '{:,}'.format(result.rows_loaded) ~ ' rows loaded, '
      ~ '{:,}'.format(result.rows_rejected) ~ ' rejected in '
      ~ '%.1f' | format(elapsed.total_seconds()) ~ ' s' -%}
  {%- if result.files_skipped -%}
    {%- set line = line ~ '; ' ~ '{:,}'.format(result.files_skipped) ~ ' files not read (' ~ result.skipped_examples
        ~ (', ...' if result.files_skipped > 3 else '') ~ '), see load_rejects' -%}
  {%- endif -%}
  {%- if result.status == 'failed' -%}
    {%- do return('FAILED ' ~ line ~ ': ' ~ result.message) -%}
  {%- endif -%}
  {%- do return('Loaded ' ~ line ~ (('; ' ~ result.message) if result.message else '')) -%}
{% endmacro %}


{#- A successful load's message, for its audit row and summary, when files it had loaded
    before are gone from the location: whether their rows stay in staging (kept, so that a
    drop folder holding only the new day works) or went with a reload of the source. -#}
{% macro note_files_gone(result, gone, kept) %}
  {%- if result.status == 'loaded' and gone > 0 -%}
    {%- set files = '{:,}'.format(gone) ~ (' loaded file gone from the location, its rows ' if gone == 1
        else ' loaded files gone from the location, their rows ') -%}
    {%- do result.update({'message': files ~ ('kept (FULL_REFRESH=1 drops them)' if kept
        else 'dropped: a changed object reloads the whole source')}) -%}
  {%- endif -%}
{% endmacro %}
