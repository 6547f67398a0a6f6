{% macro should_full_refresh() %}
  {%- set configured = config.get('full_refresh') -%}
  {%- if configured is not none -%}
    {{ return(configured) }}
  {%- endif -%}
  {%- set source_table = config.get('meta', {}).get('rebuilt_when_rows_leave', 'staging_events') -%}
  {{ return(flags.FULL_REFRESH or rows_left_staging_since_last_build(source_table)) }}
{% endmacro %}
