{% macro load_raw(location=none, plan=none, max_rejects=0, full_refresh=false) %}
  {%- if plan is none -%}
    {{ exceptions.raise_compiler_error(
        "load_raw loads the files that `make load` plans: run `make load` (python -m sparkify.load).") }}
  {%- endif -%}
  {%- set schema = var('raw_schema') -%}
  {%- set retention_days = raw_retention_days() -%}
  {%- set loaded_at = modules.datetime.datetime.utcnow() -%}
  {% do create_load_tables(schema) %}
  {%- if not plan.get('failure') %}
    {% do adapter.dispatch('read_load_plan', 'sparkify')(plan.file) %}
  {%- endif %}
  {% for source_table, table in raw_staging_tables().items() %}
    {% set load = {
        'schema': schema, 'source_table': source_table, 'columns': table.columns, 'location': location,
        'max_rejects': max_rejects, 'full_refresh': full_refresh, 'plan': plan.sources[source_table],
        'bounds': plan.bounds, 'plan_name_start': plan.name_start, 'copy_maxerror': plan.copy_maxerror,
        'started_at': modules.datetime.datetime.utcnow(), 'loaded_at': loaded_at} %}
    {%- if plan.get('failure') %}
      {% set result = {'status': 'failed', 'rows_loaded': 0, 'rows_rejected': 0, 'message': plan.get('failure')} %}
      {% call statement('record_failure_' ~ source_table) %}{{ load_audit_insert_sql(load, result) }}{% endcall %}
      {% do adapter.commit() %}
    {%- else %}
      {% set result = adapter.dispatch('load_source', 'sparkify')(load) %}
    {%- endif %}
    {% do report_event({'event': 'loaded', 'source_table': source_table, 'status': result.status,
        'rows_loaded': result.rows_loaded, 'rows_rejected': result.rows_rejected, 'message': result.message,
        'seconds': (modules.datetime.datetime.utcnow() - load.started_at).total_seconds()}) %}
  {% endfor %}
  {%- if retention_days is not none and not plan.get('failure') %}
    {% do apply_raw_retention(schema, retention_days, loaded_at) %}
  {%- endif %}
{% endmacro %}


{% macro source_result(load, rows_loaded, rows_rejected) %}
  {%- set loaded = rows_rejected <= load.max_rejects -%}
  {% do return({
      'status': 'loaded' if loaded else 'failed',
      'rows_loaded': rows_loaded if loaded else 0,
      'rows_rejected': rows_rejected,
      'message': load.plan.note if loaded
          else rows_rejected ~ ' rejected, at most ' ~ load.max_rejects ~ ' allowed'}) %}
{% endmacro %}


{% macro sql_string(value) %}
  {{ return(adapter.dispatch('sql_string', 'sparkify')(value)) }}
{% endmacro %}

{% macro default__sql_string(value) -%}
  {{ return("'" ~ (value | string).replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro redshift__sql_string(value) -%}
  {{ return("'" ~ (value | string).replace("\\", "\\\\").replace("'", "''") ~ "'") }}
{%- endmacro %}


{% macro load_time_sql(moment) -%}
  cast('{{ moment.isoformat(sep=" ") }}' as timestamp)
{%- endmacro %}


{% macro staging_deletion_insert_sql(load, rows_deleted) -%}
insert into {{ load.schema }}.staging_deletions (source_table, load_id, loaded_at, rows_deleted)
select * from (
    select
        '{{ load.source_table }}' as source_table,
        '{{ invocation_id }}' as load_id,
        {{ load_time_sql(load.loaded_at) }} as loaded_at,
        ({{ rows_deleted }}) as rows_deleted
) as deletion
where rows_deleted > 0
{%- endmacro %}


{% macro files_not_read_sql(load) -%}
delete from {{ load.schema }}.load_rejects
where source_table = '{{ load.source_table }}' and file_name is not null and line_number is null;
insert into {{ load.schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
select '{{ invocation_id }}', source_table, file_name, null, 'not read: only .json files are loaded', null
from load_plan
where source_table = '{{ load.source_table }}' and read_path is null
{%- endmacro %}


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
    {{ load.plan.found }},
    {{ load.plan.to_read }},
    {{ load.plan.skipped }},
    {{ result.rows_loaded }},
    {{ result.rows_rejected }},
    {{ load.max_rejects }},
    '{{ result.status }}',
    {{ sql_string(result.message) if result.message else 'null' }},
    {{ load_time_sql(load.started_at) }},
    {{ load_time_sql(modules.datetime.datetime.utcnow()) }}
)
{%- endmacro %}
