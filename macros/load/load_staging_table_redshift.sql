{#- Redshift: COPY each source from S3 with the cluster's IAM role, in one transaction
    that creates the table if missing and deletes the old rows, so a failed COPY leaves
    the previous rows. Redshift aborts a COPY with more bad lines than MAXERROR, naming
    sys_load_error_detail; a COPY within the threshold commits, and its bad lines are
    then copied from stl_load_errors into load_rejects. -#}
{% macro redshift__load_staging_table(schema, source_table, table, location, max_rejects) %}
  {%- if not location.startswith('s3://') -%}
    {{ exceptions.raise_compiler_error(
        "Redshift loads from S3: LOCATION must be an s3:// prefix, got '" ~ location
        ~ "'. Upload a local dataset first: make upload LOCAL=<dir> DEST=s3://<bucket>/<prefix>.") }}
  {%- endif -%}
  {% do log('Copying ' ~ source_table ~ ' from ' ~ location ~ ' (COPY aborts past ' ~ max_rejects ~ ' bad lines)...', info=true) %}

  {% call statement('copy_' ~ source_table) %}
    {{ raw_table_ddl(schema, source_table, table.columns) }};
    delete from {{ schema }}.{{ source_table }};
    {{ redshift_copy_sql(schema, source_table, table, location, max_rejects,
                         env_var('SPARKIFY_REDSHIFT_IAM_ROLE_ARN', '')) }};
  {% endcall %}
  {% do adapter.commit() %}

  {%- set copy = run_query(redshift_copy_counts_sql()).rows[0] -%}
  {% call statement('replace_rejects_' ~ source_table) %}
    delete from {{ schema }}.load_rejects where source_table = '{{ source_table }}';
    {{ redshift_copy_rejects_sql(schema, source_table) }};
  {% endcall %}
  {% do adapter.commit() %}

  {% do return({'files': copy[0], 'rows_loaded': copy[1], 'rows_rejected': copy[2]}) %}
{% endmacro %}


{#- The COPY of one staging table. Events map JSON keys to columns by the JSONPaths file
    beside the data; `ts` lands as BIGINT epoch milliseconds, converted to a timestamp by
    epoch_ms_to_timestamp in staging, so no millisecond is lost to TIMEFORMAT. Songs map
    keys to column names ('auto ignorecase'). An empty iam_role means the cluster's
    default IAM role. No TRUNCATECOLUMNS: a value too long for its column is a reject,
    never cut short in silence. -#}
{% macro redshift_copy_sql(schema, source_table, table, location, max_rejects, iam_role) -%}
  {%- set base = location.rstrip('/') -%}
  {%- set json_format = "'" ~ base ~ "/log_json_path.json'" if source_table == 'staging_events' else "'auto ignorecase'" -%}
copy {{ schema }}.{{ source_table }} (
    {%- for column in table.columns %}{{ column.name }}{{ ', ' if not loop.last }}{% endfor -%}
)
from '{{ base }}/{{ table.prefix }}/'
iam_role {{ "'" ~ iam_role ~ "'" if iam_role else 'default' }}
format as json {{ json_format }}
region '{{ var('source_region') }}'
maxerror {{ max_rejects }}
compupdate off
statupdate on
{%- endmacro %}


{#- Files, rows and rejects of this session's last COPY. -#}
{% macro redshift_copy_counts_sql() -%}
select
    (select count(distinct filename) from stl_load_commits where query = pg_last_copy_id()) as files,
    pg_last_copy_count() as rows_loaded,
    (select count(*) from stl_load_errors where query = pg_last_copy_id()) as rows_rejected
{%- endmacro %}


{#- This session's last COPY's bad lines, as load_rejects rows. -#}
{% macro redshift_copy_rejects_sql(schema, source_table) -%}
insert into {{ schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
select
    '{{ invocation_id }}',
    '{{ source_table }}',
    trim(filename),
    line_number,
    left(trim(colname) || ': ' || trim(err_reason) || ' (' || trim(raw_field_value) || ')', 1024),
    trim(raw_line)
from stl_load_errors
where query = pg_last_copy_id()
{%- endmacro %}
