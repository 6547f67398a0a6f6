{#- Watermarked data tests: docs/incremental.md explains them; macros/_macros.yml describes
    each macro. -#}

{% macro test_watermarks_relation() %}
  {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier='data_test_watermarks')) }}
{% endmacro %}


{% macro test_watermark_model(test) %}
  {%- set named = test.config.get('meta', {}).get('watermark_model') -%}
  {%- if named -%}
    {{ return('model.' ~ test.package_name ~ '.' ~ named) }}
  {%- elif test.config.get('where') == '__loaded_since_last_pass__' -%}
    {{ return(test.get('attached_node')) }}
  {%- endif -%}
  {{ return(none) }}
{% endmacro %}


{% macro test_watermark_fingerprint(test) %}
  {%- set model = graph.nodes[test_watermark_model(test)] -%}
  {{ return(local_md5(test.unique_id ~ '|' ~ test.checksum.checksum ~ '|' ~ model.checksum.checksum)) }}
{% endmacro %}


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


{% macro loaded_since_last_pass(column='loaded_at') %}
  {%- set watermark = tested_through() -%}
  {%- if watermark is none -%}
    {{ return('1 = 1') }}
  {%- endif -%}
  {{ return(column ~ " > cast('" ~ watermark ~ "' as timestamp)") }}
{% endmacro %}


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


{% macro lock_test_watermarks(relation) -%}
  {{ return(adapter.dispatch('lock_test_watermarks', 'sparkify')(relation)) }}
{%- endmacro %}

{% macro redshift__lock_test_watermarks(relation) -%}
  lock {{ relation }};
{%- endmacro %}

{% macro default__lock_test_watermarks(relation) -%}
{%- endmacro %}
