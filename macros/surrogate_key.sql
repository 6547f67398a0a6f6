{#- A deterministic key from several columns: md5 of their text, joined with a
    separator, with null spelled out so that (null, 'a') and ('', 'a') differ. -#}
{% macro surrogate_key(columns) -%}
  {%- set parts = [] -%}
  {%- for column in columns -%}
    {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
    {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
  {%- endfor -%}
  {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
