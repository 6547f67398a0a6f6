{% macro null_safe_equals(left, right) -%}
  coalesce({{ left }}, -1) = coalesce({{ right }}, -1) and coalesce({{ left }}, -2) = coalesce({{ right }}, -2)
{%- endmacro %}
