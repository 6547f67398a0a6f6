{#- dbt's should_full_refresh (the model's full_refresh config, else --full-refresh), and
    true as well for an incremental model when a load took rows of the raw table it is built
    from out of staging after the newest row the model holds (raw.staging_deletions): a
    changed file that lost lines, or a full reload. A merge adds and updates but cannot take
    those rows away, so the model is rebuilt whole, as `dbt build --full-refresh` would build
    it. That table is staging_events, or the one a model names in meta rebuilt_when_rows_leave
    (songs and artists: staging_songs). Song rows that leave need no rebuild of songplays: it
    matches their plays again itself. -#}
{% macro should_full_refresh() %}
  {%- set configured = config.get('full_refresh') -%}
  {%- if configured is not none -%}
    {{ return(configured) }}
  {%- endif -%}
  {%- set source_table = config.get('meta', {}).get('rebuilt_when_rows_leave', 'staging_events') -%}
  {{ return(flags.FULL_REFRESH or rows_left_staging_since_last_build(source_table)) }}
{% endmacro %}


{#- Whether a load deleted rows of the raw table `source_table` (staging_events or
    staging_songs) after the current incremental model was last built; false at parse time,
    for other materializations and for a model not built yet. Asked several times per model
    (each is_incremental), so the answer is kept in the node's context (`model`, a dict
    built for each compile and each run). -#}
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
