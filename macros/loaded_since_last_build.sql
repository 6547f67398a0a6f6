{% macro loaded_since_last_build(column='loaded_at') -%}
  {{ column }} > (select coalesce(max(built.loaded_at), cast('1900-01-01' as timestamp)) from {{ this }} as built)
{%- endmacro %}
