{% macro is_incremental() %}
  {{ return(false if should_full_refresh() else dbt.is_incremental()) }}
{% endmacro %}
