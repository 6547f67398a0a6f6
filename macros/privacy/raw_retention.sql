{% macro raw_retention_days() %}
  {%- set days = var('raw_retention_days') | string | trim -%}
  {%- if days in ('', 'none', 'None') -%}
    {{ return(none) }}
  {%- endif -%}
  {%- if not modules.re.fullmatch('[0-9]+', days) or days | int < 1 -%}
    {{ exceptions.raise_compiler_error(
        "raw_retention_days (SPARKIFY_RAW_RETENTION_DAYS) must be a whole number of days, 1 or more, "
        ~ "or empty to keep every event; got '" ~ days ~ "'") }}
  {%- endif -%}
  {{ return(days | int) }}
{% endmacro %}


{% macro apply_raw_retention(schema, days, loaded_at) %}
  {#- Whole seconds, so that the time printed is the one applied. -#}
  {%- set cutoff = loaded_at.replace(microsecond=0) - modules.datetime.timedelta(days=days) -%}
  {%- set cutoff_ms = ((cutoff - modules.datetime.datetime(1970, 1, 1)).total_seconds() * 1000) | int -%}
  {%- set removed = run_query(
      'select count(*) from ' ~ schema ~ '.staging_events where ts < ' ~ cutoff_ms).rows[0][0] | int -%}
  {%- if removed -%}
    {% call statement('raw_retention') %}
      delete from {{ schema }}.staging_events where ts < {{ cutoff_ms }}
    {% endcall %}
    {% do adapter.commit() %}
  {%- endif -%}
  {% do report_event({'event': 'retention', 'days': days, 'before': cutoff.strftime('%Y-%m-%d %H:%M:%S'),
      'rows_removed': removed}) %}
{% endmacro %}
