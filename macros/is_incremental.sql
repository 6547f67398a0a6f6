{#- dbt's is_incremental, except that a full refresh answers false before asking the
    database whether the table exists: `dbt compile --full-refresh` then renders every
    model with no connection (make compile-redshift). -#}
{% macro is_incremental() %}
  {{ return(false if should_full_refresh() else dbt.is_incremental()) }}
{% endmacro %}
