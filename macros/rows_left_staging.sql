{#- Asked by each is_incremental, several times per model: the answer is kept in the node's
    context (`model`, a dict built for each compile and each run). -#}
{% macro rows_left_staging_since_last_build(source_table) %}
  {%- if not execute or model.config.materialized != 'incremental' -%}
    {{ return(false) }}
  {%- endif -%}
  {%- set answer = 'sparkify_rows_left_' ~ source_table -%}
  {%- if answer not in model -%}
    {%- set deletions = source('sparkify', 'staging_deletions') -%}
    {%- set built = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- set recorded = adapter.get_relation(
        database=deletions.database, schema=deletions.schema, identifier=deletions.identifier) -%}
    {%- set deleted = built is not none and recorded is not none and run_query(
        "select count(*) from " ~ deletions ~ " where source_table = '" ~ source_table ~ "' and "
        ~ loaded_since_last_build()
    ).columns[0].values()[0] > 0 -%}
    {%- do model.update({answer: deleted}) -%}
  {%- endif -%}
  {{ return(model[answer]) }}
{% endmacro %}
