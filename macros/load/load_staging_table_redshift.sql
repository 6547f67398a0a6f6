{#- Redshift: COPY the source from S3 into a session temp table with MAXERROR at Redshift's
    limit, so the COPY keeps going past bad lines and logs each one in stl_load_errors.
    Then, in one transaction: replace or extend the staging rows only when the rejects are
    within max_rejects, and write the ledger rows, the rejects and the audit row. A source
    over the threshold is recorded as failed and keeps its previous rows; the next source is
    still tried, as on DuckDB.

    `make load` (sparkify.load) passes load.manifest: the objects new since the ledger, in a
    COPY manifest it wrote to the user's bucket, and whether they replace the source (a file
    changed) or add to it, and the objects that are not .json, which are not read and are
    recorded as such. On a full refresh the manifest lists every .json object. COPY cannot say
    which file a row came from, so source_file is null on Redshift and a changed file reloads
    its whole source. A file gone from the location keeps its rows, as on DuckDB, unless such
    a reload drops them. Without a manifest (a bare `dbt run-operation load_raw`) the whole
    prefix is copied and replaces the source. -#}
{% macro redshift__load_staging_table(load) %}
  {%- if not load.location.startswith('s3://') -%}
    {{ exceptions.raise_compiler_error(
        "Redshift loads from S3: LOCATION must be an s3:// prefix, got '" ~ load.location
        ~ "'. Upload a local dataset first: make upload LOCAL=<dir> DEST=s3://<bucket>/<prefix>.") }}
  {%- endif -%}
  {%- set table = load.table -%}
  {#- A full refresh (asked for, or a new location) copies every object: from the manifest
    when it lists them all, else the whole folder. -#}
  {%- set manifest = load.get('manifest') -%}
  {%- if load.full_refresh and manifest is not none and not manifest.replace -%}
    {%- set manifest = none -%}
  {%- endif -%}
  {%- set replace = manifest is none or manifest.replace -%}
  {%- set scratch = 'copied_' ~ load.source_table -%}
  {%- set column_list = table.columns | map(attribute='name') | join(', ') -%}

  {%- if manifest is not none and manifest.files | length == 0 -%}
    {%- set copy_id, rows_copied, rows_rejected = none, 0, 0 -%}
  {%- else -%}
    {% do log('  ' ~ load.source_table ~ ': copying ' ~ ((manifest.files | length ~ ' new objects') if manifest else 'every object') ~ '...', info=true) %}
    {% call statement('copy_' ~ load.source_table) %}
      drop table if exists {{ scratch }};
      create temp table {{ scratch }} (
        {%- for column in table.columns %}
          {{ column.name }} {{ column.type }}{{ ',' if not loop.last }}
        {%- endfor %}
      );
      {{ redshift_copy_sql(scratch, load.source_table, table, load.location,
                           env_var('SPARKIFY_REDSHIFT_IAM_ROLE_ARN', ''), manifest.url if manifest else none) }};
    {% endcall %}
    {% do adapter.commit() %}
    {%- set copy = run_query(redshift_copy_counts_sql()).rows[0] -%}
    {%- set copy_id, rows_copied, rows_rejected = copy[0], copy[2], copy[3] -%}
  {%- endif -%}

  {%- set status = 'loaded' if rows_rejected <= load.max_rejects else 'failed' -%}
  {%- set files_copied = (manifest.files | length) if manifest else (copy[1] if copy_id is not none else 0) -%}
  {%- set result = {
      'status': status, 'rows_loaded': rows_copied if status == 'loaded' else 0, 'rows_rejected': rows_rejected,
      'message': none if status == 'loaded' else '{:,}'.format(rows_rejected) ~ ' rejected, at most ' ~ load.max_rejects ~ ' allowed',
      'files_found': manifest.found if manifest else files_copied, 'files_loaded': files_copied,
      'files_skipped': (manifest.skipped | length) if manifest else 0,
      'skipped_examples': (manifest.skipped[:3] | join(', ')) if manifest else ''} -%}
  {%- do note_files_gone(result, manifest.gone if manifest else 0, kept=not replace) -%}
  {%- set loaded_at = "cast('" ~ load.loaded_at.isoformat(sep=' ') ~ "' as timestamp)" -%}
  {%- set prefix_length = load.location | length + 2 -%}

  {% call statement('record_' ~ load.source_table) %}
    {%- if status == 'loaded' and copy_id is not none %}
      {%- if replace %}
    {{ staging_deletion_insert_sql(load, 'select count(*) from ' ~ load.schema ~ '.' ~ load.source_table) }};
    delete from {{ load.schema }}.{{ load.source_table }};
    delete from {{ load.schema }}.loaded_files where source_table = '{{ load.source_table }}';
      {%- endif %}
    insert into {{ load.schema }}.{{ load.source_table }} ({{ column_list }}, source_file, loaded_at)
    select {{ column_list }}, null, {{ loaded_at }} from {{ scratch }};
      {%- if manifest %}
        {%- for file in manifest.files %}
    insert into {{ load.schema }}.loaded_files
    select '{{ load.source_table }}', {{ sql_string(file.file_name) }}, {{ file.file_size | int }}, {{ sql_string(file.file_version) }},
        null, (select count(*) from stl_load_errors where query = {{ copy_id }}
               and trim(filename) = {{ sql_string(load.location ~ '/' ~ file.file_name) }}),
        '{{ invocation_id }}', {{ loaded_at }};
        {%- endfor %}
      {%- else %}
    insert into {{ load.schema }}.loaded_files
    select '{{ load.source_table }}', substring(trim(filename), {{ prefix_length }}), null, null,
        null, max(errors), '{{ invocation_id }}', {{ loaded_at }}
    from stl_load_commits where query = {{ copy_id }}
    group by trim(filename);
      {%- endif %}
    {%- endif %}
    {%- if copy_id is not none %}
    delete from {{ load.schema }}.load_rejects
    where source_table = '{{ load.source_table }}'
        {%- if not (replace and status == 'loaded') and manifest %}
        and file_name in ({% for file in manifest.files %}{{ sql_string(file.file_name) }}{{ ', ' if not loop.last }}{% endfor %})
        {%- endif %};
    {{ redshift_copy_rejects_sql(load.schema, load.source_table, copy_id, prefix_length) }};
    {%- endif %}
    {%- if manifest %}
    delete from {{ load.schema }}.load_rejects where source_table = '{{ load.source_table }}' and line_number is null;
      {%- for file_name in manifest.skipped %}
    insert into {{ load.schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
    values ('{{ invocation_id }}', '{{ load.source_table }}', {{ sql_string(file_name) }}, null,
        'not read: only .json files are loaded', null);
      {%- endfor %}
    {%- endif %}
    {{ load_audit_insert_sql(load, result) }};
  {% endcall %}
  {% do adapter.commit() %}
  {%- if copy_id is not none %}
    {% do run_query('drop table ' ~ scratch) %}
  {%- endif %}

  {% do return(result) %}
{% endmacro %}


{#- Redshift refuses a MAXERROR above this, and fails a COPY once its errors reach it. -#}
{% macro redshift_copy_maxerror() %}{% do return(100000) %}{% endmacro %}


{#- The COPY of one source into `target`: from the source's folder, or from a manifest of
    chosen objects. Events map JSON keys to columns by the JSONPaths file beside the data;
    `ts` lands as BIGINT epoch milliseconds, converted to a timestamp by
    epoch_ms_to_timestamp in staging, so no millisecond is lost to TIMEFORMAT. Songs map keys
    to column names ('auto ignorecase'). An empty iam_role means the cluster's default IAM
    role. REGION only when the var source_region is set (`make load` sets it to the bucket's
    region): AWS requires every object to be in the named region. No TRUNCATECOLUMNS: a
    value too long for its column is a reject, never cut short in silence. -#}
{% macro redshift_copy_sql(target, source_table, table, location, iam_role, manifest_url=none) -%}
  {%- set base = location.rstrip('/') -%}
  {%- set json_format = sql_string(base ~ '/log_json_path.json') if source_table == 'staging_events' else "'auto ignorecase'" -%}
  {%- set region = var('source_region') -%}
copy {{ target }} (
    {%- for column in table.columns %}{{ column.name }}{{ ', ' if not loop.last }}{% endfor -%}
)
from {{ sql_string(manifest_url or base ~ '/' ~ table.prefix ~ '/') }}
iam_role {{ sql_string(iam_role) if iam_role else 'default' }}
format as json {{ json_format }}
{%- if manifest_url %}
manifest
{%- endif %}
{%- if region %}
region {{ sql_string(region) }}
{%- endif %}
maxerror {{ redshift_copy_maxerror() }}
compupdate off
statupdate off
{%- endmacro %}


{#- Query id, files, rows loaded and lines rejected of this session's last COPY. -#}
{% macro redshift_copy_counts_sql() -%}
select
    pg_last_copy_id() as copy_id,
    (select count(distinct filename) from stl_load_commits where query = pg_last_copy_id()) as files,
    pg_last_copy_count() as rows_loaded,
    (select count(*) from stl_load_errors where query = pg_last_copy_id()) as rows_rejected
{%- endmacro %}


{#- A COPY's bad lines, as load_rejects rows, with file names relative to the location
    (the first prefix_length - 1 characters of stl_load_errors' URL cut off). -#}
{% macro redshift_copy_rejects_sql(schema, source_table, copy_id, prefix_length=1) -%}
insert into {{ schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
select
    '{{ invocation_id }}',
    '{{ source_table }}',
    substring(trim(filename), {{ prefix_length }}),
    line_number,
    left(
        coalesce(nullif(trim(colname), '') || ': ', '') || trim(err_reason)
        || coalesce(' (' || nullif(trim(raw_field_value), '') || ')', ''),
        1024
    ),
    trim(raw_line)
from stl_load_errors
where query = {{ copy_id }}
{%- endmacro %}
