{% macro empty_as_null(expression) %}
  {{ return(adapter.dispatch('empty_as_null', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__empty_as_null(expression) -%}
  nullif(trim({{ expression }}), '')
{%- endmacro %}

{% macro duckdb__empty_as_null(expression) -%}
  case
      when {{ expression }} like ' %' or {{ expression }} like '% ' or {{ expression }} = ''
          then nullif(trim({{ expression }}, ' '), '')
      else {{ expression }}
  end
{%- endmacro %}


{% macro strip_double_quotes(expression) %}
  {{ return(adapter.dispatch('strip_double_quotes', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__strip_double_quotes(expression) -%}
  trim(both '"' from {{ expression }})
{%- endmacro %}

{% macro duckdb__strip_double_quotes(expression) -%}
  case
      when {{ expression }} like '"%"' and {{ expression }} not like '""%' and {{ expression }} not like '%""'
          then substring({{ expression }}, 2, length({{ expression }}) - 2)
      else trim(both '"' from {{ expression }})
  end
{%- endmacro %}


{% macro match_key(expression) %}
  {{ return(adapter.dispatch('match_key', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__match_key(expression) -%}
  lower(trim(regexp_replace({{ expression }}, '[[:space:]]+', ' ')))
{%- endmacro %}

{% macro duckdb__match_key(expression) -%}
  lower(trim(regexp_replace({{ expression }}, '[[:space:]]+', ' ', 'g'), ' '))
{%- endmacro %}
