{#- Written after `as` in a CTE that is read more than once: DuckDB would otherwise store the
    whole CTE first (10 million events, every column) instead of scanning it per reader.
    Redshift has no such hint: there it renders nothing. -#}
{% macro not_materialized() %}
  {{ return(adapter.dispatch('not_materialized', 'sparkify')()) }}
{% endmacro %}

{% macro default__not_materialized() %}{% endmacro %}

{% macro duckdb__not_materialized() %}not materialized{% endmacro %}
