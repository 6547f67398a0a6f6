{% macro regexp_capture(expression, pattern) %}
  {{ return(adapter.dispatch('regexp_capture', 'sparkify')(expression, pattern)) }}
{% endmacro %}

{% macro default__regexp_capture(expression, pattern) -%}
  nullif(regexp_substr({{ expression }}, '{{ pattern }}', 1, 1, 'e'), '')
{%- endmacro %}

{% macro duckdb__regexp_capture(expression, pattern) -%}
  nullif(regexp_extract({{ expression }}, '{{ pattern }}', 1), '')
{%- endmacro %}
