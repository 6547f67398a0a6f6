{% macro not_materialized() %}
  {{ return(adapter.dispatch('not_materialized', 'sparkify')()) }}
{% endmacro %}

{% macro default__not_materialized() %}{% endmacro %}

{% macro duckdb__not_materialized() %}not materialized{% endmacro %}
