{#- The first capture group of a regular expression's first match in a text, or null when it
    does not match. Patterns are kept to what both engines read alike: bracket expressions
    such as [0-9.] instead of backslash escapes, no alternation of different lengths. -#}
{% macro regexp_capture(expression, pattern) %}
  {{ return(adapter.dispatch('regexp_capture', 'sparkify')(expression, pattern)) }}
{% endmacro %}

{#- Redshift: regexp_substr's 'e' parameter returns the first subexpression. -#}
{% macro default__regexp_capture(expression, pattern) -%}
  nullif(regexp_substr({{ expression }}, '{{ pattern }}', 1, 1, 'e'), '')
{%- endmacro %}

{% macro duckdb__regexp_capture(expression, pattern) -%}
  nullif(regexp_extract({{ expression }}, '{{ pattern }}', 1), '')
{%- endmacro %}
