{% macro epoch_ms_to_timestamp(epoch_ms) %}
  {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'sparkify')(epoch_ms)) }}
{% endmacro %}

{% macro default__epoch_ms_to_timestamp(epoch_ms) -%}
  timestamp 'epoch' + {{ epoch_ms }} * interval '0.001 second'
{%- endmacro %}

{% macro duckdb__epoch_ms_to_timestamp(epoch_ms) -%}
  make_timestamp(cast({{ epoch_ms }} * 1000 as bigint))
{%- endmacro %}
