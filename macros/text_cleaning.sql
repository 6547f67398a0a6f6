{#- Text without its surrounding spaces, or null when nothing else is left. Only ASCII
    spaces go, as Redshift's trim removes. Dispatched per adapter. -#}
{% macro empty_as_null(expression) %}
  {{ return(adapter.dispatch('empty_as_null', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__empty_as_null(expression) -%}
  nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- DuckDB's trim would also remove a no-break space, so it is told which character; and
    since that form reads the whole string, it runs only on text that starts or ends with a
    space. -#}
{% macro duckdb__empty_as_null(expression) -%}
  case
      when {{ expression }} like ' %' or {{ expression }} like '% ' or {{ expression }} = ''
          then nullif(trim({{ expression }}, ' '), '')
      else {{ expression }}
  end
{%- endmacro %}


{#- Text without the double quotes around it, however many there are, as
    trim(both '"' from ...) gives: eventsim wraps every user agent in them. Dispatched per
    adapter. -#}
{% macro strip_double_quotes(expression) %}
  {{ return(adapter.dispatch('strip_double_quotes', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__strip_double_quotes(expression) -%}
  trim(both '"' from {{ expression }})
{%- endmacro %}

{#- DuckDB's trim of a character reads the whole string: counting the distinct user agents
    of 10M events took 2.5 s with it and 0.5 s with this. So the usual case, one quote at
    each end, is cut off, and any other falls back to trim. -#}
{% macro duckdb__strip_double_quotes(expression) -%}
  case
      when {{ expression }} like '"%"' and {{ expression }} not like '""%' and {{ expression }} not like '%""'
          then substring({{ expression }}, 2, length({{ expression }}) - 2)
      else trim(both '"' from {{ expression }})
  end
{%- endmacro %}


{#- The form in which titles and artist names are compared when matching log events to
    song files: lower case, trimmed, with runs of white space collapsed to one space. -#}
{% macro match_key(expression) %}
  {{ return(adapter.dispatch('match_key', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__match_key(expression) -%}
  lower(trim(regexp_replace({{ expression }}, '[[:space:]]+', ' ')))
{%- endmacro %}

{#- DuckDB replaces only the first match unless told 'g', and its plain trim would also
    remove a no-break space, which Redshift's keeps: it is told which character. -#}
{% macro duckdb__match_key(expression) -%}
  lower(trim(regexp_replace({{ expression }}, '[[:space:]]+', ' ', 'g'), ' '))
{%- endmacro %}
