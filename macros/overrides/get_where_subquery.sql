{% macro get_where_subquery(relation) -%}
  {%- if config.get('where') == '__loaded_since_last_pass__' -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ loaded_since_last_pass() ~ ') dbt_subquery') }}
  {%- endif -%}
  {{ return(dbt.get_where_subquery(relation)) }}
{%- endmacro %}
