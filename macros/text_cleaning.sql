{#- Blank or whitespace-only text becomes null. -#}
{% macro empty_as_null(expression) -%}
  nullif(trim({{ expression }}), '')
{%- endmacro %}


{#- The form in which titles and artist names are compared when matching log events to
    song files: lower case, trimmed, with runs of white space collapsed to one space. -#}
{% macro match_key(expression) %}
  {{ return(adapter.dispatch('match_key', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__match_key(expression) -%}
  lower(trim(regexp_replace({{ expression }}, '[[:space:]]+', ' ')))
{%- endmacro %}

{#- DuckDB replaces only the first match unless told 'g'. -#}
{% macro duckdb__match_key(expression) -%}
  lower(trim(regexp_replace({{ expression }}, '[[:space:]]+', ' ', 'g')))
{%- endmacro %}
