{#- left = right for numbers, a missing value matching a missing value. Two equalities, so that
    a hash join can take it (an `or` could not), and no comparison of booleans, which PostgreSQL
    takes in a join but Redshift's documentation never shows. -#}
{% macro null_safe_equals(left, right) -%}
  coalesce({{ left }}, -1) = coalesce({{ right }}, -1) and coalesce({{ left }}, -2) = coalesce({{ right }}, -2)
{%- endmacro %}
