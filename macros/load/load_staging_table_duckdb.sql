{#- DuckDB: read every file as text, split it into lines and type each line, so that a
    line that is not JSON, or whose values cannot be typed, is kept with its file, line
    number and reason instead of being skipped. -#}
{% macro duckdb__load_staging_table(schema, source_table, table, location, max_rejects) %}
  {%- set pattern = location.rstrip('/') ~ '/' ~ table.prefix ~ '/**/*.json' -%}
  {%- if location.startswith('s3://') -%}
    {% do duckdb_enable_s3() %}
  {%- endif -%}

  {%- set files = run_query('select count(*) from glob(' ~ dbt.string_literal(pattern) ~ ')').columns[0].values()[0] -%}
  {%- if files == 0 -%}
    {{ exceptions.raise_compiler_error(
        "No files match " ~ pattern ~ ". The location must hold " ~ table.prefix
        ~ "/ with .json files; run `make data` for a generated sample or pass LOCATION=<dir or s3:// prefix>.") }}
  {%- endif -%}

  {% call statement('parse_' ~ source_table) %}
    {{ raw_table_ddl(schema, source_table, table.columns) }};
    create or replace temp table parsed_{{ source_table }} as
    with files as (
        select filename, string_split(content, chr(10)) as lines
        from read_text({{ dbt.string_literal(pattern) }})
    ),

    lines as (
        select
            filename as file_name,
            generate_subscripts(lines, 1) as line_number,
            rtrim(unnest(lines), chr(13)) as raw_line
        from files
    ),

    records as (
        select
            *,
            -- json_type fails on text that is not JSON, so only ask it of valid JSON.
            case when json_valid(raw_line) then json_type(raw_line) = 'OBJECT' else false end as is_object
        from lines
        where trim(raw_line) <> ''
    ),

    extracted as (
        select
            file_name,
            line_number,
            raw_line,
            is_object,
            {%- for column in table.columns %}
            case when is_object then json_extract_string(raw_line, {{ dbt.string_literal('$."' ~ column.json_key ~ '"') }}) end
                as {{ column.name }}__text{{ ',' if not loop.last }}
            {%- endfor %}
        from records
    ),

    typed as (
        select
            *,
            {%- for column in table.columns %}
            try_cast({{ column.name }}__text as {{ column.type }}) as {{ column.name }}{{ ',' if not loop.last }}
            {%- endfor %}
        from extracted
    )

    select
        *,
        case
            when not is_object then 'not a JSON object'
            else nullif(concat_ws('; '
                {%- for column in table.columns %},
                case when {{ column.name }}__text is not null and {{ column.name }} is null
                    then '{{ column.json_key }}: ' || left({{ column.name }}__text, 100) || ' is not {{ column.type }}' end
                {%- endfor %}
            ), '')
        end as reason
    from typed
  {% endcall %}

  {%- set counts = run_query(
      'select count(*) filter (where reason is null), count(*) filter (where reason is not null) from parsed_'
      ~ source_table).rows[0] -%}
  {%- set rows_valid, rows_rejected = counts[0], counts[1] -%}

  {% call statement('replace_rejects_' ~ source_table) %}
    delete from {{ schema }}.load_rejects where source_table = '{{ source_table }}';
    insert into {{ schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
    select '{{ invocation_id }}', '{{ source_table }}', file_name, line_number, reason, raw_line
    from parsed_{{ source_table }}
    where reason is not null
    order by file_name, line_number;
  {% endcall %}

  {%- if rows_rejected <= max_rejects %}
    {% call statement('replace_' ~ source_table) %}
      delete from {{ schema }}.{{ source_table }};
      insert into {{ schema }}.{{ source_table }}
      select {% for column in table.columns %}{{ column.name }}{{ ', ' if not loop.last }}{% endfor %}
      from parsed_{{ source_table }}
      where reason is null
      order by file_name, line_number;
    {% endcall %}
  {%- endif %}
  {% do adapter.commit() %}
  {% do run_query('drop table parsed_' ~ source_table) %}

  {% do return({
      'files': files,
      'rows_loaded': rows_valid if rows_rejected <= max_rejects else 0,
      'rows_rejected': rows_rejected}) %}
{% endmacro %}


{#- Lets DuckDB read s3:// with the AWS credential chain (environment, profile, SSO...),
    so no key appears in SQL. The extensions load by path from the project's wheels;
    AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) points at an S3-compatible endpoint. -#}
{% macro duckdb_enable_s3() %}
  {%- set extensions = env_var('SPARKIFY_DUCKDB_EXTENSIONS', '') -%}
  {%- if not extensions -%}
    {{ exceptions.raise_compiler_error(
        "Reading s3:// on DuckDB needs the httpfs and aws extensions shipped in the project's wheels: "
        ~ "run `make load`, or set SPARKIFY_DUCKDB_EXTENSIONS=$(python -m sparkify.duckdb_extensions).") }}
  {%- endif -%}
  {%- for path in extensions.split(",") -%}
    {% do run_query("load " ~ dbt.string_literal(path)) %}
  {%- endfor -%}
  {%- set endpoint = env_var('AWS_ENDPOINT_URL_S3', env_var('AWS_ENDPOINT_URL', '')) -%}
  {%- set region = env_var('AWS_REGION', env_var('AWS_DEFAULT_REGION', '')) -%}
  {% call statement('create_s3_secret') %}
    create or replace secret sparkify_s3 (
        type s3,
        provider credential_chain
        {%- if region %}, region {{ dbt.string_literal(region) }}{% endif %}
        {%- if endpoint %},
        endpoint {{ dbt.string_literal(endpoint.split('://')[-1].rstrip('/')) }},
        use_ssl {{ 'true' if endpoint.startswith('https://') else 'false' }},
        url_style 'path'
        {%- endif %}
    )
  {% endcall %}
{% endmacro %}
