{% macro redshift__load_source(load) %}
  {%- set scratch = 'copied_' ~ load.source_table -%}
  {%- set names = load.columns | map(attribute='name') | list -%}
  {%- if load.plan.to_read == 0 -%}
    {%- set result = source_result(load, 0, 0) -%}
  {%- else -%}
    {% do report_event({'event': 'copy', 'source_table': load.source_table, 'objects': load.plan.to_read}) %}
    {% call statement('copy_' ~ load.source_table) %}
      drop table if exists {{ scratch }};
      create temp table {{ scratch }} (
        {%- for name in names %}
          {{ name }} varchar(65535){{ ',' if not loop.last }}
        {%- endfor %}
      );
      {{ redshift_copy_sql(scratch, names, load.copy_maxerror, load.plan.get('manifest'), load.plan.get('json_paths')) }};
    {% endcall %}
    {% do adapter.commit() %}
    {% call statement('check_' ~ load.source_table) %}
      create temp table checked_{{ load.source_table }} as
      select *, {{ raw_value_problem(load.columns, names, load.bounds) }} as problem
      from {{ scratch }};
    {% endcall %}
    {%- set erased = drop_erased_users_events(load, 'checked_' ~ load.source_table) -%}
    {%- set copy_erased = redshift_copy_errors_of_erased_users(load) -%}
    {%- set counts = run_query(redshift_load_counts_sql('checked_' ~ load.source_table)).rows[0] -%}
    {%- set result = erased_users_note(
        source_result(load, counts[1], counts[2] + counts[3] - copy_erased), erased + copy_erased) -%}
    {%- do result.update({'copy_query_id': counts[0]}) -%}
  {%- endif -%}

  {%- set staging = load.schema ~ '.' ~ load.source_table -%}
  {%- set read_files = "(select file_name from load_plan where source_table = '" ~ load.source_table
      ~ "' and batch_number is not null)" -%}
  {% call statement('record_' ~ load.source_table) %}
    {%- if result.status == 'loaded' and load.plan.to_read > 0 %}
      {%- if load.plan.reload %}
    {{ staging_deletion_insert_sql(load, 'select count(*) from ' ~ staging) }};
    delete from {{ staging }};
    delete from {{ load.schema }}.loaded_files where source_table = '{{ load.source_table }}';
      {%- endif %}
    insert into {{ staging }} ({{ names | join(', ') }}, source_file, loaded_at)
    select
        {%- for column in load.columns %}
        cast({{ column.name }} as {{ column.type }}),
        {%- endfor %}
        null,
        {{ load_time_sql(load.loaded_at) }}
    from checked_{{ load.source_table }}
    where problem is null;
    insert into {{ load.schema }}.loaded_files
    select
        load_plan.source_table, load_plan.file_name, load_plan.file_size, load_plan.file_version,
        null, coalesce(errors.error_count, 0), '{{ invocation_id }}', {{ load_time_sql(load.loaded_at) }}
    from load_plan
    left join (
        select trim(file_name) as path, count(*) as error_count
        from sys_load_error_detail
        where query_id = {{ result.copy_query_id }}
        group by 1
    ) as errors on load_plan.path = errors.path
    where load_plan.source_table = '{{ load.source_table }}' and load_plan.batch_number is not null;
    {%- endif %}
    {%- if load.plan.to_read > 0 %}
    delete from {{ load.schema }}.load_rejects
    where source_table = '{{ load.source_table }}'
        and ({{ 'true' if load.plan.reload and result.status == 'loaded' else 'false' }} or file_name in {{ read_files }});
    {{ redshift_copy_rejects_sql(load, result.copy_query_id) }};
    -- A line that COPY refused keeps its raw line on a provisioned cluster: not an erased
    -- user's (redshift_copy_errors_of_erased_users counted those).
    delete from {{ load.schema }}.load_rejects
    where load_id = '{{ invocation_id }}' and {{ is_erased_user(load.schema, rejected_line_user_id('raw_line')) }};
    insert into {{ load.schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
    select '{{ invocation_id }}', '{{ load.source_table }}', null, null, problem, null
    from checked_{{ load.source_table }}
    where problem is not null;
    {%- endif %}
    {{ files_not_read_sql(load) }};
    {{ load_audit_insert_sql(load, result) }};
  {% endcall %}
  {% do adapter.commit() %}
  {%- if load.plan.to_read > 0 %}
    {% do run_query('drop table ' ~ scratch ~ '; drop table checked_' ~ load.source_table) %}
  {%- endif %}
  {% do return(result) %}
{% endmacro %}


{% macro redshift__read_load_plan(file) %}
  {% call statement('read_load_plan') %}
    create temp table load_plan (
      {%- for column in load_plan_columns() %}
        {{ column.name }} {{ column.type }}{{ ',' if not loop.last }}
      {%- endfor %}
    );
    copy load_plan from {{ sql_string(file) }}
    iam_role {{ redshift_iam_role() }}
    format as json 'auto'
    {{- redshift_copy_region(var('source_region')) }};
  {% endcall %}
  {% do adapter.commit() %}
{% endmacro %}


{% macro redshift_iam_role() -%}
  {%- set role = env_var('SPARKIFY_REDSHIFT_IAM_ROLE_ARN', '') -%}
  {{ sql_string(role) if role else 'default' }}
{%- endmacro %}


{% macro redshift_copy_region(region) -%}
  {%- if region %}
region {{ sql_string(region) }}
  {%- endif %}
{%- endmacro %}


{% macro redshift_copy_sql(target, names, maxerror, manifest_url, json_paths_url=none) -%}
copy {{ target }} ({{ names | join(', ') }})
from {{ sql_string(manifest_url) }}
iam_role {{ redshift_iam_role() }}
format as json {{ sql_string(json_paths_url) if json_paths_url else "'auto ignorecase'" }}
manifest
{{- redshift_copy_region(var('source_region')) }}
maxerror {{ maxerror }}
compupdate off
statupdate off
{%- endmacro %}


{% macro redshift_copy_errors_of_erased_users(load) %}
  {%- if var('redshift_raw_lines') | string | lower != 'true' or raw_user_id_column() not in load.columns | map(attribute='name') -%}
    {{ return(0) }}
  {%- endif -%}
  {{ return(run_query(
      'select count(*) from stl_load_errors where query = pg_last_copy_id() and '
      ~ is_erased_user(load.schema, rejected_line_user_id('raw_line'))).rows[0][0] | int) }}
{% endmacro %}


{% macro redshift_load_counts_sql(checked) -%}
with copied as (
    select query_id, error_count
    from sys_load_history
    where session_id = pg_backend_pid()
    order by start_time desc
    limit 1
)

select
    copied.query_id,
    (select count(*) from {{ checked }} where problem is null) as rows_passed,
    copied.error_count,
    (select count(*) from {{ checked }} where problem is not null) as rows_refused
from copied
{%- endmacro %}


{% macro redshift_copy_rejects_sql(load, copy_query_id) -%}
{%- set raw_lines = var('redshift_raw_lines') | string | lower == 'true' -%}
insert into {{ load.schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
select
    '{{ invocation_id }}',
    '{{ load.source_table }}',
    load_plan.file_name,
    errors.line_number,
    coalesce(nullif(trim(errors.column_name), '') || ': ', '') || left(trim(errors.error_message), 200),
    {{ 'trim(lines.raw_line)' if raw_lines else 'null' }}
from sys_load_error_detail as errors
left join load_plan
    on load_plan.path = trim(errors.file_name) and load_plan.source_table = '{{ load.source_table }}'
{%- if raw_lines %}
left join stl_load_errors as lines
    on lines.query = pg_last_copy_id()
    and trim(lines.filename) = trim(errors.file_name)
    and lines.line_number = errors.line_number
{%- endif %}
where errors.query_id = {{ copy_query_id }}
{%- endmacro %}
