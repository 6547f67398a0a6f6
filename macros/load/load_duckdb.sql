{% macro duckdb__load_source(load) %}
  {%- if load.location.startswith('s3://') -%}
    {% do duckdb_enable_s3() %}
  {%- endif -%}
  {%- set scratch = load.schema ~ '.' ~ load.source_table ~ '__loading' -%}
  {% call statement('create_scratch_' ~ load.source_table) %}
    drop table if exists {{ scratch }};
    create table {{ scratch }} as
    select *, false as load_problem from {{ load.schema }}.{{ load.source_table }} limit 0;
    create or replace temp table new_rejects as
    select load_id, source_table, file_name, line_number, reason, raw_line from {{ load.schema }}.load_rejects limit 0;
  {% endcall %}
  {% do adapter.commit() %}

  {%- set batches = run_query(
      "select batch_number, count(*), sum(file_size) from load_plan where source_table = '" ~ load.source_table
      ~ "' and batch_number is not null group by 1 order by 1").rows -%}
  {%- for batch in batches %}
    {% do run_query("set variable batch_files = (select list(read_path) from load_plan where source_table = '"
        ~ load.source_table ~ "' and batch_number = " ~ batch[0] ~ ")") %}
    {% call statement('fast_path_' ~ load.source_table) %}
      insert into {{ scratch }}
      {{ duckdb_fast_path_select(load) }};
    {% endcall %}
    {% do adapter.commit() %}
    {% do report_event({'event': 'batch', 'source_table': load.source_table, 'batch': loop.index,
        'batches': batches | length, 'files': batch[1], 'bytes': batch[2]}) %}
  {%- endfor %}

  {%- set too_large = duckdb_precise_path(load, scratch) -%}
  {%- set erased = drop_erased_users_events(load, scratch, 'new_rejects') -%}
  {%- set counts = run_query(
      'select (select count(*) from ' ~ scratch ~ '), (select count(*) from new_rejects)').rows[0] -%}
  {%- set result = erased_users_note(source_result(load, counts[0], counts[1]), erased) -%}
  {%- if too_large -%}
    {%- set result = {'status': 'failed', 'rows_loaded': 0, 'rows_rejected': 0, 'message': too_large} -%}
  {%- endif -%}
  {% do duckdb_record_load(load, result, scratch) %}
  {% do return(result) %}
{% endmacro %}


{% macro duckdb__read_load_plan(file) %}
  {% call statement('read_load_plan') %}
    create or replace temp table load_plan as
    select * from read_json({{ sql_string(file) }}, format = 'newline_delimited', columns = {
        {%- for column in load_plan_columns() %}
        '{{ column.name }}': '{{ column.type }}'{{ ',' if not loop.last }}
        {%- endfor %}
    });
  {% endcall %}
{% endmacro %}


{% macro duckdb_fast_path_select(load) %}
  {%- set columns = load.columns -%}
  {%- set values = duckdb_found_values(columns) -%}
  with objects as (

      select filename, json, {{ duckdb_extract_values('json', columns) }} as found_values
      from read_ndjson_objects(getvariable('batch_files'), ignore_errors = true, filename = true)

  )

  select
      {%- for column in columns %}
      try_cast({{ values[loop.index0] }} as {{ column.type }}) as {{ column.name }},
      {%- endfor %}
      {{ duckdb_file_name('filename', load) }} as source_file,
      {{ load_time_sql(load.loaded_at) }} as loaded_at,
      -- The reason is left to the precise path, which reads a flagged file again.
      json is null or {{ duckdb_values_may_break_contract(columns, values, load.bounds) }} as load_problem
  from objects
{% endmacro %}


{% macro duckdb_values_may_break_contract(columns, values, bounds) -%}
  {%- set tests = [] -%}
  {%- for column in columns -%}
    {%- set value = values[loop.index0] -%}
    {%- set width = modules.re.match('varchar\((\d+)\)', column.type) -%}
    {%- set range = raw_range(column, bounds) -%}
    {%- if column.get('required') -%}
      {#- Blank text sorts before '!': null, empty or a leading space. -#}
      {%- do tests.append('(' ~ value ~ " is null or " ~ value ~ " < '!')") -%}
    {%- elif column.get('required_with') -%}
      {%- set other = columns | selectattr('name', 'equalto', column.get('required_with')) | first -%}
      {%- do tests.append('((' ~ value ~ " is null or " ~ value ~ " < '!') and " ~ values[columns.index(other)] ~ ' is not null)') -%}
    {%- endif -%}
    {%- if width -%}
      {%- do tests.append('strlen(' ~ value ~ ') > ' ~ width.group(1)) -%}
    {%- endif -%}
    {%- if column.type in ('integer', 'bigint') or column.get('whole_number') -%}
      {#- A whole number in its type's range reads back as itself; blank userId is allowed. -#}
      {%- set typed = 'try_cast(' ~ value ~ ' as ' ~ ('bigint' if column.type == 'bigint' else 'integer') ~ ')' -%}
      {%- do tests.append('(' ~ value ~ ' is not null' ~ (" and " ~ value ~ " <> ''" if column.get('whole_number') else '')
          ~ ' and (cast(' ~ typed ~ ' as varchar) is distinct from ' ~ value
          ~ (' or not ' ~ range_condition({'type': 'bigint'}, value, range) if range and (column.get('min') is not none or column.get('max') is not none or column.get('above') is not none) else '') ~ '))') -%}
    {%- elif column.type == 'double precision' -%}
      {%- do tests.append('not ' ~ text_matches(value, '-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]{1,2})?')) -%}
      {%- if range %}{% do tests.append('not ' ~ range_condition(column, value, range)) %}{% endif -%}
    {%- endif -%}
    {%- if column.get('values') -%}
      {%- do tests.append(value ~ " not in ('" ~ column.get('values') | join("', '") ~ "')") -%}
    {%- endif -%}
  {%- endfor -%}
  coalesce({{ tests | join('\n      or ') }}, false)
{%- endmacro %}


{#- Not a join with the plan, which would say the same: DuckDB would build its hash table on
    the read, whose size is unknown. -#}
{% macro duckdb_file_name(path, load) -%}
  substr({{ path }}, {{ load.plan_name_start }})
{%- endmacro %}


{% macro duckdb_extract_values(json, columns) -%}
  json_transform({{ json }}, '{
      {%- for column in columns %}"{{ column.json_key }}": "VARCHAR"{{ ', ' if not loop.last }}{% endfor -%}
  }')
{%- endmacro %}


{% macro duckdb_found_values(columns) %}
  {%- set values = [] -%}
  {%- for column in columns %}{% do values.append('found_values."' ~ column.json_key ~ '"') %}{% endfor -%}
  {% do return(values) %}
{%- endmacro %}


{#- Splitting a file into lines takes about twice its size within memory_limit and as much
    again outside it: hence a quarter of memory_limit per file, and chunks of an eighth (at most
    64 MiB) plus their largest file, which stay below half. -#}
{% macro duckdb_precise_path(load, scratch) %}
  {% call statement('suspect_files_' ~ load.source_table) %}
    create or replace temp table suspect_files as
    with memory as (
        {{ duckdb_memory_limit_sql() }}
    ),

    flagged as (
        select distinct source_file as file_name from {{ scratch }} where load_problem
    )

    select
        load_plan.read_path,
        load_plan.file_name,
        load_plan.file_size,
        load_plan.file_size > memory.limit_bytes / 4 as too_large,
        memory.limit_text,
        floor(
            sum(load_plan.file_size) over (order by load_plan.file_name rows unbounded preceding)
            / least(67108864, memory.limit_bytes / 8)
        ) as chunk_number
    from flagged
    inner join load_plan on flagged.file_name = load_plan.file_name and load_plan.source_table = '{{ load.source_table }}'
    cross join memory;
  {% endcall %}
  {%- set too_large = run_query(
      "select first(file_name || ' (' || cast(round(file_size / 1048576) as bigint) || ' MiB)' order by file_size desc), count(*), "
      ~ "first(limit_text) from suspect_files where too_large").rows[0] -%}
  {%- if too_large[1] > 0 -%}
    {%- do return(too_large[0] ~ (' and ' ~ (too_large[1] - 1) ~ ' more such files have' if too_large[1] > 1 else ' has')
        ~ ' bad lines, and finding them reads a file whole, which fits in a quarter of DuckDB\'s memory_limit ('
        ~ too_large[2] ~ ') at most: split the file, or raise memory_limit (SPARKIFY_DUCKDB_MEMORY_LIMIT in the example profile)') -%}
  {%- endif -%}
  {% call statement('suspect_rows_' ~ load.source_table) %}
    delete from {{ scratch }} where source_file in (select file_name from suspect_files);
  {% endcall %}
  {% do adapter.commit() %}
  {%- for chunk in run_query('select distinct chunk_number from suspect_files order by 1').rows %}
    {% do run_query("set variable suspect_paths = (select list(read_path) from suspect_files where chunk_number = "
        ~ chunk[0] ~ ")") %}
    {% call statement('precise_path_' ~ load.source_table) %}
      create or replace temp table precise_lines as
      {{ duckdb_precise_path_select(load) }};
    {% endcall %}
    {% do duckdb_pretty_printed_documents(load) %}
    {%- set values = duckdb_found_values(load.columns) %}
    {% call statement('precise_path_rows_' ~ load.source_table) %}
      insert into {{ scratch }}
      select
          {%- for column in load.columns %}
          try_cast({{ values[loop.index0] }} as {{ column.type }}),
          {%- endfor %}
          source_file,
          {{ load_time_sql(load.loaded_at) }},
          null
      from precise_lines
      where reason is null;
      insert into new_rejects
      select '{{ invocation_id }}', '{{ load.source_table }}', source_file, line_number, reason, raw_line
      from precise_lines
      where reason is not null;
    {% endcall %}
    {% do adapter.commit() %}
  {%- endfor %}
  {% do return(none) %}
{% endmacro %}


{% macro duckdb_memory_limit_sql() %}
  select
      cast(string_split(written, ' ')[1] as double) * case string_split(written, ' ')[2]
          when 'KiB' then 1024 when 'MiB' then 1048576 when 'GiB' then 1073741824
          when 'TiB' then 1099511627776 else 1 end as limit_bytes,
      written as limit_text
  from (select current_setting('memory_limit') as written) as setting
{% endmacro %}


{% macro duckdb_precise_path_select(load) %}
  {%- set columns = load.columns -%}
  {%- set values = duckdb_found_values(columns) -%}
  with files as (

      select
          {{ duckdb_file_name('filename', load) }} as source_file,
          -- Blob to text writes every byte outside printable ASCII as \xNN, so a file that is
          -- not UTF-8 can still be split into lines and each line decoded on its own.
          string_split(cast(content as varchar), '\x0A') as escaped_lines
      from read_blob(getvariable('suspect_paths'))

  ),

  lines as (

      select
          source_file,
          generate_subscripts(escaped_lines, 1) as line_number,
          unnest(escaped_lines) as escaped_line
      from files

  ),

  decoded as (

      select
          source_file,
          line_number,
          escaped_line,
          try(decode(cast(
              regexp_replace(
                  case when line_number = 1 then regexp_replace(escaped_line, '^\\xEF\\xBB\\xBF', '') else escaped_line end,
                  '\\x0D$', '')
              as blob))) as raw_line
      from lines
      -- Spaces, tabs (\x09) and carriage returns (\x0D) alone: a blank line.
      where not regexp_full_match(escaped_line, '( |\\x09|\\x0D)*')

  ),

  parsed as (

      select
          *,
          case
              when raw_line is null then 'not valid UTF-8'
              when not json_valid(raw_line) then 'not valid JSON'
              when json_type(raw_line) = 'ARRAY'
                  then 'a JSON array of ' || format('{:,}', json_array_length(raw_line)) || ' records, expected one object per line'
              when json_type(raw_line) <> 'OBJECT'
                  then 'a JSON ' || case json_type(raw_line)
                      when 'VARCHAR' then 'string' when 'BOOLEAN' then 'boolean' when 'NULL' then 'null' else 'number'
                  end || ', expected one object per line'
          end as line_problem,
          case when json_valid(raw_line) and json_type(raw_line) = 'OBJECT'
              then {{ duckdb_extract_values('raw_line', columns) }}
          end as found_values
      from decoded

  )

  select
      source_file,
      line_number,
      -- A line that is not UTF-8 is kept in blob notation, so that no byte is lost.
      coalesce(raw_line, escaped_line) as raw_line,
      coalesce(line_problem, {{ raw_value_problem(columns, values, load.bounds) }}) as reason,
      found_values
  from parsed
{% endmacro %}


{% macro duckdb_pretty_printed_documents(load) %}
  {% do run_query(
      "set variable document_paths = (select list(suspect_files.read_path) from suspect_files inner join ("
      ~ " select source_file from precise_lines group by source_file"
      ~ " having count(*) > 1 and arg_min(reason, line_number) = 'not valid JSON'"
      ~ ") as candidates on suspect_files.file_name = candidates.source_file)") %}
  {%- if run_query("select coalesce(len(getvariable('document_paths')), 0)").rows[0][0] > 0 %}
    {% call statement('pretty_printed_' ~ load.source_table) %}
      create or replace temp table pretty_printed as
      with documents as (

          select
              {{ duckdb_file_name('filename', load) }} as source_file,
              -- The file as one document, without a byte-order mark, when it is UTF-8.
              regexp_replace(try(decode(content)), '^\x{FEFF}', '') as document
          from read_blob(getvariable('document_paths'))

      )

      select
          source_file,
          1 as line_number,
          document as raw_line,
          case json_type(document)
              when 'ARRAY' then 'a pretty-printed JSON array of ' || format('{:,}', json_array_length(document))
                  || ' records over '
              else 'a pretty-printed JSON document over '
          end || format('{:,}', length(document) - length(replace(document, chr(10), '')) + 1)
              || ' lines, expected one object per line' as reason,
          null as found_values
      from documents
      where json_valid(document);
      delete from precise_lines where source_file in (select source_file from pretty_printed);
      insert into precise_lines select * from pretty_printed;
    {% endcall %}
  {%- endif %}
{% endmacro %}


{% macro duckdb_record_load(load, result, scratch) %}
  {%- set staging = load.schema ~ '.' ~ load.source_table -%}
  {%- set read_files = "(select file_name from load_plan where source_table = '" ~ load.source_table
      ~ "' and batch_number is not null)" -%}
  {%- set reload = load.plan.reload -%}
  {% call statement('record_' ~ load.source_table) %}
    {%- if result.status == 'loaded' %}
      {%- if reload %}
    {{ staging_deletion_insert_sql(load, 'select count(*) from ' ~ staging) }};
    -- Nothing to keep: the scratch table becomes the staging table, with no copy.
    drop table {{ staging }};
    alter table {{ scratch }} drop column load_problem;
    alter table {{ scratch }} rename to {{ load.source_table }};
    delete from {{ load.schema }}.loaded_files where source_table = '{{ load.source_table }}';
      {%- else %}
    {#- Rows of the changed files that the new versions do not hold again. -#}
    {{ staging_deletion_insert_sql(load,
        'select count(*) from (select * exclude (loaded_at) from ' ~ staging
        ~ ' where source_file in ' ~ read_files ~ ' except select * exclude (loaded_at, load_problem) from '
        ~ scratch ~ ') as deleted') }};
    delete from {{ staging }} where source_file in {{ read_files }};
    insert into {{ staging }} select * exclude (load_problem) from {{ scratch }};
    delete from {{ load.schema }}.loaded_files
    where source_table = '{{ load.source_table }}' and file_name in {{ read_files }};
      {%- endif %}
    insert into {{ load.schema }}.loaded_files
    select
        load_plan.source_table,
        load_plan.file_name,
        load_plan.file_size,
        load_plan.file_version,
        coalesce(loaded.row_count, 0),
        coalesce(rejected.row_count, 0),
        '{{ invocation_id }}',
        {{ load_time_sql(load.loaded_at) }}
    from load_plan
    left join (
        select source_file, count(*) as row_count from {{ staging }}
        where loaded_at = {{ load_time_sql(load.loaded_at) }}
        group by source_file
    ) as loaded on load_plan.file_name = loaded.source_file
    left join (
        select file_name, count(*) as row_count from new_rejects group by file_name
    ) as rejected on load_plan.file_name = rejected.file_name
    where load_plan.source_table = '{{ load.source_table }}' and load_plan.batch_number is not null;
    {%- endif %}
    delete from {{ load.schema }}.load_rejects
    where source_table = '{{ load.source_table }}'
        and ({{ 'true' if reload and result.status == 'loaded' else 'false' }} or file_name in {{ read_files }});
    insert into {{ load.schema }}.load_rejects select * from new_rejects order by file_name, line_number;
    {{ files_not_read_sql(load) }};
    {{ load_audit_insert_sql(load, result) }};
    drop table if exists {{ scratch }};
  {% endcall %}
  {% do adapter.commit() %}
{% endmacro %}


{% macro duckdb_enable_s3() %}
  {%- for path in env_var('SPARKIFY_DUCKDB_EXTENSIONS', '').split(',') if path -%}
    {% do run_query("load " ~ sql_string(path)) %}
  {%- endfor -%}
  {%- set endpoint = env_var('AWS_ENDPOINT_URL_S3', env_var('AWS_ENDPOINT_URL', '')) -%}
  {%- set region = env_var('AWS_REGION', env_var('AWS_DEFAULT_REGION', '')) -%}
  {% call statement('create_s3_secret') %}
    create or replace secret sparkify_s3 (
        type s3,
        provider credential_chain
        {%- if region %}, region {{ sql_string(region) }}{% endif %}
        {%- if endpoint %},
        endpoint {{ sql_string(endpoint.split('://')[-1].rstrip('/')) }},
        use_ssl {{ 'true' if endpoint.startswith('https://') else 'false' }},
        url_style 'path'
        {%- endif %}
    )
  {% endcall %}
{% endmacro %}
