{% macro raw_user_id_column() %}
  {%- set column = raw_staging_tables().staging_events.columns | selectattr('identifies_user') | first -%}
  {{ return(column.name) }}
{% endmacro %}


{% macro users_events_condition(is_user, sessions) -%}
({{ is_user }} or ({{ empty_as_null(raw_user_id_column()) }} is null and sessionid in ({{ sessions }})))
{%- endmacro %}


{% macro text_user_id(expression) -%}
(case when {{ text_matches(empty_as_null(expression), '-?[0-9]{1,10}') }} then cast({{ empty_as_null(expression) }} as bigint) end)
{%- endmacro %}


{% macro is_erased_user(schema, expression) -%}
{{ text_user_id(expression) }} in (select cast(user_id as bigint) from {{ schema }}.erasures)
{%- endmacro %}


{% macro rejected_line_user_id(raw_line) -%}
{{ regexp_capture(raw_line, '"userId" *: *"?(-?[0-9]+)') }}
{%- endmacro %}


{% macro drop_erased_users_events(load, relation, rejects=none) %}
  {%- set user_column = raw_user_id_column() -%}
  {%- if user_column not in load.columns | map(attribute='name') -%}
    {% do return(0) %}
  {%- endif -%}
  {%- set is_erased = is_erased_user(load.schema, user_column) -%}
  {%- set events = users_events_condition(is_erased, 'select sessionid from ' ~ relation ~ ' where ' ~ is_erased) -%}
  {%- set lines = is_erased_user(load.schema, rejected_line_user_id('raw_line')) -%}
  {%- set dropped = run_query(
      'select (select count(*) from ' ~ relation ~ ' where ' ~ events ~ ')'
      ~ (' + (select count(*) from ' ~ rejects ~ ' where ' ~ lines ~ ')' if rejects else '')).rows[0][0] | int -%}
  {%- if dropped -%}
    {% call statement('drop_erased_users_events_' ~ load.source_table) %}
      delete from {{ relation }} where {{ events }};
      {%- if rejects %}
      delete from {{ rejects }} where {{ lines }};
      {%- endif %}
    {% endcall %}
    {#- The load's own rows, not yet staging's: committed as each step of the load is. -#}
    {% do adapter.commit() %}
  {%- endif -%}
  {% do return(dropped) %}
{% endmacro %}


{% macro erased_users_note(result, dropped) %}
  {%- if dropped and result.status == 'loaded' -%}
    {%- set note = '{:,}'.format(dropped) ~ ' events of erased users not loaded' -%}
    {%- do result.update({'message': (result.message ~ '; ' if result.message else '') ~ note}) -%}
  {%- endif -%}
  {% do return(result) %}
{% endmacro %}
