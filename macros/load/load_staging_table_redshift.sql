{#- Redshift: COPY each source from S3 into a session temp table with MAXERROR at
    Redshift's limit, so the COPY keeps going past bad lines and logs each one in
    stl_load_errors. Then, in one transaction: create the staging table if missing,
    replace its rows with the temp table's only when the rejects are within max_rejects,
    replace the source's rows in load_rejects, and append its load_audit row. A source over
    the threshold is recorded as failed, keeps its previous rows, and the next source is
    still tried, as on DuckDB. -#}
{% macro redshift__load_staging_table(schema, source_table, table, location, max_rejects) %}
  {%- if not location.startswith('s3://') -%}
    {{ exceptions.raise_compiler_error(
        "Redshift loads from S3: LOCATION must be an s3:// prefix, got '" ~ location
        ~ "'. Upload a local dataset first: make upload LOCAL=<dir> DEST=s3://<bucket>/<prefix>.") }}
  {%- endif -%}
  {%- if max_rejects >= redshift_copy_maxerror() -%}
    {{ exceptions.raise_compiler_error(
        "max_rejects must be below " ~ redshift_copy_maxerror() ~ " on Redshift (COPY's MAXERROR limit), got "
        ~ max_rejects) }}
  {%- endif -%}
  {%- set started_at = modules.datetime.datetime.utcnow() -%}
  {%- set scratch = 'copied_' ~ source_table -%}
  {% do log('Copying ' ~ source_table ~ ' from ' ~ location ~ '...', info=true) %}

  {% call statement('copy_' ~ source_table) %}
    drop table if exists {{ scratch }};
    create temp table {{ scratch }} (
      {%- for column in table.columns %}
        {{ column.name }} {{ column.type }}{{ ',' if not loop.last }}
      {%- endfor %}
    );
    {{ redshift_copy_sql(scratch, source_table, table, location, env_var('SPARKIFY_REDSHIFT_IAM_ROLE_ARN', '')) }};
  {% endcall %}
  {% do adapter.commit() %}

  {%- set copy = run_query(redshift_copy_counts_sql()).rows[0] -%}
  {%- set copy_id, files, rows_copied, rows_rejected = copy[0], copy[1], copy[2], copy[3] -%}
  {%- set status = 'loaded' if rows_rejected <= max_rejects else 'failed' -%}
  {%- set result = {
      'files': files,
      'rows_loaded': rows_copied if status == 'loaded' else 0,
      'rows_rejected': rows_rejected,
      'audited': true} -%}
  {%- set column_list = table.columns | map(attribute='name') | join(', ') -%}

  {% call statement('replace_' ~ source_table) %}
    {{ raw_table_ddl(schema, source_table, table.columns) }};
    {%- if status == 'loaded' %}
    delete from {{ schema }}.{{ source_table }};
    insert into {{ schema }}.{{ source_table }} ({{ column_list }})
    select {{ column_list }} from {{ scratch }};
    {%- endif %}
    delete from {{ schema }}.load_rejects where source_table = '{{ source_table }}';
    {{ redshift_copy_rejects_sql(schema, source_table, copy_id) }};
    {{ load_audit_row_sql(schema, source_table, location, result, max_rejects, status,
                          started_at, modules.datetime.datetime.utcnow()) }};
  {% endcall %}
  {% do adapter.commit() %}
  {% do run_query('drop table ' ~ scratch) %}

  {% do return(result) %}
{% endmacro %}


{#- Redshift refuses a MAXERROR above this, and fails a COPY once its errors reach it. -#}
{% macro redshift_copy_maxerror() %}{% do return(100000) %}{% endmacro %}


{#- The COPY of one source into `target`. Events map JSON keys to columns by the JSONPaths
    file beside the data; `ts` lands as BIGINT epoch milliseconds, converted to a timestamp by
    epoch_ms_to_timestamp in staging, so no millisecond is lost to TIMEFORMAT. Songs map keys
    to column names ('auto ignorecase'). An empty iam_role means the cluster's default IAM
    role. REGION only when the var source_region is set (`make load` sets it to the bucket's
    region): AWS requires every object to be in the named region. No TRUNCATECOLUMNS: a
    value too long for its column is a reject, never cut short in silence. -#}
{% macro redshift_copy_sql(target, source_table, table, location, iam_role) -%}
  {%- set base = location.rstrip('/') -%}
  {%- set json_format = "'" ~ base ~ "/log_json_path.json'" if source_table == 'staging_events' else "'auto ignorecase'" -%}
  {%- set region = var('source_region') -%}
copy {{ target }} (
    {%- for column in table.columns %}{{ column.name }}{{ ', ' if not loop.last }}{% endfor -%}
)
from '{{ base }}/{{ table.prefix }}/'
iam_role {{ "'" ~ iam_role ~ "'" if iam_role else 'default' }}
format as json {{ json_format }}
{%- if region %}
region '{{ region }}'
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


{#- A COPY's bad lines, as load_rejects rows. -#}
{% macro redshift_copy_rejects_sql(schema, source_table, copy_id) -%}
insert into {{ schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
select
    '{{ invocation_id }}',
    '{{ source_table }}',
    trim(filename),
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
