{#- Tests that scan a whole fact table on every daily build, when only the day's rows are
    new, read only the rows loaded since they last passed. Each such test records, when it
    passes, how far it has tested: the newest loaded_at of its model (its watermark). The
    next build tests only the rows loaded after it. A test that fails records nothing, so
    it keeps testing those rows until they pass. A full refresh, var test_all_rows, or a
    change to the test or to its model's SQL (the fingerprint) tests every row again.

    A generic test opts in with `config: {where: __loaded_since_last_pass__}` and is
    watermarked by the model it tests; a singular test calls loaded_since_last_pass() in
    its SQL and names its model in `config(meta={'watermark_model': ...})`. -#}

{% macro test_watermarks_relation() %}
  {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier='data_test_watermarks')) }}
{% endmacro %}


{#- The model whose loaded_at bounds what a test node (graph.nodes form) has tested, or none
    when the test is not watermarked. -#}
{% macro test_watermark_model(test) %}
  {%- set named = test.config.get('meta', {}).get('watermark_model') -%}
  {%- if named -%}
    {{ return('model.' ~ test.package_name ~ '.' ~ named) }}
  {%- elif test.config.get('where') == '__loaded_since_last_pass__' -%}
    {{ return(test.get('attached_node')) }}
  {%- endif -%}
  {{ return(none) }}
{% endmacro %}


{#- Changes with the test's definition and with its model's SQL: either change means that
    the rows tested so far were tested by other code. -#}
{% macro test_watermark_fingerprint(test) %}
  {%- set model = graph.nodes[test_watermark_model(test)] -%}
  {{ return(local_md5(test.unique_id ~ '|' ~ test.checksum.checksum ~ '|' ~ model.checksum.checksum)) }}
{% endmacro %}


{#- The newest loaded_at that the current test has passed on, or none: it has not passed
    yet, its fingerprint changed, this is a full refresh, var test_all_rows is true, or a
    load has since changed rows that were tested without loading them again: it took rows
    out of staging (raw.staging_deletions), after which models are rebuilt whole, or it
    loaded song rows, which change the song of plays loaded before. -#}
{% macro tested_through() %}
  {%- if not execute or flags.FULL_REFRESH or var('test_all_rows') -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set relation = test_watermarks_relation() -%}
  {%- if adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set deletions = source('sparkify', 'staging_deletions') -%}
  {%- set deletions_recorded = adapter.get_relation(
      database=deletions.database, schema=deletions.schema, identifier=deletions.identifier) is not none -%}
  {%- set test = graph.nodes[model.unique_id] -%}
  {%- set rows = run_query(
      "select max(tested_through) from " ~ relation ~ " as watermarks where test_id = " ~ sql_string(test.unique_id)
      ~ " and fingerprint = '" ~ test_watermark_fingerprint(test) ~ "'"
      ~ " and not exists (select 1 from " ~ source('sparkify', 'staging_songs') ~ " as songs"
      ~ " where songs.loaded_at > watermarks.tested_through)"
      ~ ((" and not exists (select 1 from " ~ deletions ~ " as deletions"
          ~ " where deletions.loaded_at > watermarks.tested_through)") if deletions_recorded else '')).rows -%}
  {{ return(rows[0][0] if rows else none) }}
{% endmacro %}


{#- The condition a watermarked test puts on its rows: loaded since the test last passed,
    or every row. -#}
{% macro loaded_since_last_pass(column='loaded_at') %}
  {%- set watermark = tested_through() -%}
  {%- if watermark is none -%}
    {{ return('1 = 1') }}
  {%- endif -%}
  {{ return(column ~ " > cast('" ~ watermark ~ "' as timestamp)") }}
{% endmacro %}


{#- dbt's own, except that the where config __loaded_since_last_pass__ becomes the condition
    above (the where config cannot call a macro itself). -#}
{% macro get_where_subquery(relation) -%}
  {%- if config.get('where') == '__loaded_since_last_pass__' -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ loaded_since_last_pass() ~ ') dbt_subquery') }}
  {%- endif -%}
  {{ return(dbt.get_where_subquery(relation)) }}
{%- endmacro %}


{#- on-run-end: each watermarked test that passed records its model's newest loaded_at, in
    one transaction. Nothing else writes a model while dbt builds and tests it, so that is
    the newest row the test read. -#}
{% macro record_test_watermarks(results) %}
  {%- if not execute -%}
    {{ return('') }}
  {%- endif -%}
  {%- set passed = [] -%}
  {%- for result in results if result.node.resource_type == 'test' and result.status == 'pass' -%}
    {%- set test = graph.nodes[result.node.unique_id] -%}
    {%- if test_watermark_model(test) -%}
      {%- do passed.append(test) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if not passed -%}
    {{ return('') }}
  {%- endif -%}
  {%- set relation = test_watermarks_relation() -%}
  {#- A build of the staging model alone (an Airflow task) comes before any mart, and so
      before the marts' schema, which holds the watermarks. -#}
  {% do adapter.create_schema(relation) %}
  {% call statement('record_test_watermarks') %}
    create table if not exists {{ relation }} (
        test_id varchar(512) not null,
        fingerprint varchar(32) not null,
        tested_through timestamp,
        invocation_id varchar(64) not null,
        recorded_at timestamp not null
    );
    {{ lock_test_watermarks(relation) }}
    delete from {{ relation }} where test_id in (
        {%- for test in passed %}{{ sql_string(test.unique_id) }}{{ ', ' if not loop.last }}{% endfor -%}
    );
    insert into {{ relation }}
    {%- for test in passed %}
    select
        {{ sql_string(test.unique_id) }},
        '{{ test_watermark_fingerprint(test) }}',
        (select max(loaded_at) from {{ graph.nodes[test_watermark_model(test)].relation_name }}),
        '{{ invocation_id }}',
        cast('{{ modules.datetime.datetime.utcnow().isoformat(sep=" ") }}' as timestamp)
    {{ 'union all' if not loop.last }}
    {%- endfor %};
  {% endcall %}
  {% do adapter.commit() %}
  {{ return('') }}
{% endmacro %}


{#- Redshift aborts one of two transactions that write a table side by side (serializable
    isolation), as the daily DAG's model tasks would at their ends: they take turns. DuckDB
    has one writer at a time anyway. -#}
{% macro lock_test_watermarks(relation) -%}
  {{ return(adapter.dispatch('lock_test_watermarks', 'sparkify')(relation)) }}
{%- endmacro %}

{% macro redshift__lock_test_watermarks(relation) -%}
  lock {{ relation }};
{%- endmacro %}

{% macro default__lock_test_watermarks(relation) -%}
{%- endmacro %}
