{% macro create_analysts_group() %}
  {{ return(adapter.dispatch('create_analysts_group', 'sparkify')()) }}
{% endmacro %}

{% macro default__create_analysts_group() %}{% endmacro %}

{% macro redshift__create_analysts_group() %}
  {%- if not execute or flags.WHICH not in ('build', 'run', 'seed', 'snapshot', 'retry') -%}
    {{ return('') }}
  {%- endif -%}
  {%- set group = var('analysts_group') -%}
  {%- if run_query("select count(*) from pg_group where groname = " ~ sql_string(group)).rows[0][0] == 0 -%}
    {% do run_query('create group ' ~ adapter.quote(group)) %}
  {%- endif -%}
  {#- The marts' schema, which dbt created before this hook; not the raw one nor staging's. -#}
  {%- if adapter.check_schema_exists(target.database, target.schema) -%}
    {% do run_query('grant usage on schema ' ~ adapter.quote(target.schema) ~ ' to group ' ~ adapter.quote(group)) %}
  {%- endif -%}
  {% do adapter.commit() %}
  {{ return('') }}
{% endmacro %}


{% macro analysts_grants(personal_columns=false) %}
  {%- if target.type != 'redshift' -%}
    {{ return({}) }}
  {%- endif -%}
  {{ return({'select': [] if personal_columns else ['group ' ~ var('analysts_group')]}) }}
{% endmacro %}


{% macro grant_select_on_columns_without_pii() %}
  {%- if target.type != 'redshift' or not execute -%}
    {{ return('') }}
  {%- endif -%}
  {%- set personal = [] -%}
  {%- set other = [] -%}
  {%- for name, column in model.columns.items() -%}
    {%- set pii = column.get('meta', {}).get('pii') or column.get('config', {}).get('meta', {}).get('pii') -%}
    {%- do (personal if pii else other).append(name) -%}
  {%- endfor -%}
  {%- if personal and config.get('grants', {}).get('select') -%}
    {{ exceptions.raise_compiler_error(
        this.identifier ~ ' has personal columns (' ~ personal | join(', ') ~ ') and grants the whole table to the '
        ~ 'analysts: configure it with grants=analysts_grants(personal_columns=true).') }}
  {%- endif -%}
  {%- if personal -%}
    {{ return('grant select (' ~ other | join(', ') ~ ') on ' ~ this ~ ' to group ' ~ adapter.quote(var('analysts_group'))) }}
  {%- endif -%}
  {{ return('') }}
{% endmacro %}
