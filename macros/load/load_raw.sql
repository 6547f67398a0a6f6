{#- Entry point of `make load`: fills the staging tables from raw JSON at `location`.

    dbt run-operation load_raw --args '{location: ../shared/data/sparkify-sample}'

    Each source is replaced whole, so running the same load twice leaves the same
    tables. Every load appends one row per source to load_audit; the lines a load
    could not type go to load_rejects (replacing that source's earlier rejects).
    A source with more rejects than `max_rejects` keeps its previous contents and
    the operation fails once every source has been tried (on Redshift, COPY itself
    aborts past MAXERROR). -#}
{% macro load_raw(location=none, max_rejects=none) %}
  {%- set location = (location or var('raw_location')) | string -%}
  {%- set max_rejects = (var('max_rejects') if max_rejects is none else max_rejects) | int -%}
  {%- set schema = var('raw_schema') -%}
  {%- if max_rejects < 0 -%}
    {{ exceptions.raise_compiler_error("max_rejects must be 0 or more, got " ~ max_rejects) }}
  {%- endif -%}

  {% do create_load_tables(schema) %}
  {% set failed = [] %}
  {% for source_table, table in raw_staging_tables().items() %}
    {% set started_at = modules.datetime.datetime.utcnow() %}
    {% set result = adapter.dispatch('load_staging_table', 'sparkify')(
        schema, source_table, table, location, max_rejects) %}
    {% set finished_at = modules.datetime.datetime.utcnow() %}
    {% set status = 'loaded' if result.rows_rejected <= max_rejects else 'failed' %}
    {#- Redshift writes its audit row in the transaction of its staging rows. -#}
    {% if not result.get('audited') %}
      {% do record_load(schema, source_table, location, result, max_rejects, status, started_at, finished_at) %}
    {% endif %}
    {% do log(load_summary(source_table, location, result, status, finished_at - started_at), info=true) %}
    {% if status == 'failed' %}
      {% do failed.append(source_table ~ ' (' ~ result.rows_rejected ~ ' rejected, at most ' ~ max_rejects ~ ' allowed)') %}
    {% endif %}
  {% endfor %}

  {% if failed %}
    {{ exceptions.raise_compiler_error(
        "Load failed for " ~ failed | join(', ') ~ ". Those tables keep their previous contents. "
        ~ "See " ~ schema ~ ".load_rejects for each rejected line with its file, line and reason, "
        ~ "or allow more with `make load MAX_REJECTS=N` (max_rejects in --args).") }}
  {% endif %}
{% endmacro %}


{% macro record_load(schema, source_table, location, result, max_rejects, status, started_at, finished_at) %}
  {% call statement('record_load_' ~ source_table) %}
    {{ load_audit_row_sql(schema, source_table, location, result, max_rejects, status, started_at, finished_at) }}
  {% endcall %}
  {% do adapter.commit() %}
{% endmacro %}


{#- The insert of one load_audit row, as SQL text, for a caller's transaction. -#}
{% macro load_audit_row_sql(schema, source_table, location, result, max_rejects, status, started_at, finished_at) -%}
insert into {{ schema }}.load_audit
  (load_id, source_table, location, files, rows_loaded, rows_rejected, max_rejects, status, started_at, finished_at)
values (
  '{{ invocation_id }}',
  '{{ source_table }}',
  {{ dbt.string_literal(location) }},
  {{ result.files }},
  {{ result.rows_loaded }},
  {{ result.rows_rejected }},
  {{ max_rejects }},
  '{{ status }}',
  cast('{{ started_at.isoformat(sep=" ") }}' as timestamp),
  cast('{{ finished_at.isoformat(sep=" ") }}' as timestamp)
)
{%- endmacro %}


{% macro load_summary(source_table, location, result, status, elapsed) %}
  {%- set line = source_table ~ ' from ' ~ location ~ ': '
      ~ '{:,}'.format(result.files) ~ ' files, '
      ~ '{:,}'.format(result.rows_loaded) ~ ' rows loaded, '
      ~ '{:,}'.format(result.rows_rejected) ~ ' rejected in '
      ~ '%.1f' | format(elapsed.total_seconds()) ~ ' s' -%}
  {%- do return(('FAILED ' if status == 'failed' else 'Loaded ') ~ line) -%}
{% endmacro %}
